package file

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/dataweaver/dataweaver/connectors/internal/blob"
	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/spec"
)

// DirSink writes a directory of part files, part-000001.<ext>, … Each part
// is written as a hidden temporary file and published by a rename at a
// checkpoint (engine.Committer), or at Close when the engine runs without
// positions. It never replaces anything, so the engine may resume a
// pipeline writing here: the resumed run adds parts after the last one.
//
// Write, Flush, Prepare, Abort and Close run on the sink's goroutine;
// Commit may run on another one at the same time, and touches nothing
// but the files it is given.
type DirSink struct {
	sinkConfig
	ext string // ".parquet", ".csv.gz"

	runCtx   context.Context
	schema   *arrow.Schema
	next     int          // number of the next part
	cur      *blob.Stream // the part being written, nil between parts
	curFile  *os.File
	curPart  part
	closed   []part // finished and fsynced, not yet prepared
	prepared bool   // Prepare was called: the engine checkpoints
	split    string // set by WritePart: the split's part names
	redo     bool   // set by WritePartAgain: remove earlier attempts' parts
	state    atomic.Int32
}

// part names one part file, relative to the directory: the prepared bytes
// a position store keeps stay valid wherever the run's working directory is.
type part struct {
	Temp  string `json:"temp"`
	Final string `json:"final"`
}

// preparedParts is what Prepare hands the engine and Commit reads back.
type preparedParts struct {
	Parts []part `json:"parts"`
}

// partNumber finds the number in a part file's name, published or
// temporary, whatever its extension.
var partNumber = regexp.MustCompile(`^\.?part-([0-9]+)\.`)

func (c sinkConfig) dirSink(conf *spec.Parsed) (*DirSink, error) {
	switch {
	case conf.Given("append") && c.append:
		return nil, configErr(conf, "append", "a directory is always added to: each run writes new parts; drop append")
	case conf.Given("atomic") && !c.atomic:
		return nil, configErr(conf, "atomic", "parts are always written under a temporary name and renamed into place; atomic: false does not apply to a directory")
	}
	ext := blob.PartExt(c.format, c.outer)
	return &DirSink{sinkConfig: c, ext: ext}, nil
}

func (d *DirSink) names(n int) part {
	if d.split != "" {
		return d.splitNames(n)
	}
	final := blob.PartName(n, d.ext)
	return part{Temp: "." + final + ".tmp", Final: final}
}

// Open creates the directory, removes the temporary parts an earlier run
// left without preparing them (their rows were never covered by a saved
// position, so the source reads them again), and numbers this run's parts
// after the highest one there.
func (d *DirSink) Open(ctx context.Context, schema *arrow.Schema) error {
	if !d.state.CompareAndSwap(sinkNew, sinkOpen) {
		return errors.New("file sink: Open called twice")
	}
	d.runCtx, d.schema = ctx, schema
	if err := d.scan(); err != nil {
		d.state.Store(sinkClosed)
		return fmt.Errorf("file sink: %w", err)
	}
	return nil
}

func (d *DirSink) scan() error {
	if d.mkdir {
		if err := os.MkdirAll(d.path, 0o777); err != nil {
			return err
		}
	}
	if d.split != "" {
		// Other workers write their splits' parts here meanwhile: none of
		// their temporary files is ours to remove. A split's parts count
		// from 1, so a second attempt replaces the first one's.
		d.next = 1
		return nil
	}
	entries, err := os.ReadDir(d.path)
	if err != nil {
		return err
	}
	removed := false
	for _, e := range entries {
		m := partNumber.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		n, err := strconv.Atoi(m[1])
		if err != nil {
			continue // more digits than an int holds: not ours
		}
		if p := d.names(n); e.Name() == p.Temp {
			if err := os.Remove(filepath.Join(d.path, p.Temp)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("remove unprepared part: %w", err)
			}
			removed = true
			continue
		}
		d.next = max(d.next, n)
	}
	d.next++
	if removed {
		return syncDir(d.path)
	}
	return nil
}

// Write starts a part when none is open (so no part is ever empty), and
// ends it once it holds part_rows rows.
func (d *DirSink) Write(_ context.Context, rec arrow.RecordBatch) error {
	if d.state.Load() != sinkOpen {
		return engine.Permanent(errors.New("file sink: Write outside Open and Close"))
	}
	if rec.NumRows() == 0 {
		return nil
	}
	if d.cur == nil {
		if err := d.startPart(); err != nil {
			return engine.Permanent(fmt.Errorf("file sink: %w", err))
		}
	}
	if err := d.cur.Write(rec); err != nil {
		return engine.Permanent(fmt.Errorf("file sink: %w", err))
	}
	if d.partRows > 0 && d.cur.Rows() >= d.partRows {
		if err := d.endPart(); err != nil {
			return engine.Permanent(fmt.Errorf("file sink: %w", err))
		}
	}
	return nil
}

func (d *DirSink) startPart() error {
	p := d.names(d.next)
	f, err := os.OpenFile(filepath.Join(d.path, p.Temp), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
	if err != nil {
		return err
	}
	wopts := d.wopts
	wopts.Name = filepath.Join(d.path, p.Final)
	st, err := newStream(wopts.Name, f, &d.sinkConfig, d.schema, wopts, false, false)
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	d.next++
	d.cur, d.curFile, d.curPart = st, f, p
	return nil
}

// endPart finishes the current part (a Parquet footer, a gzip trailer),
// fsyncs and closes it. It stays under its temporary name.
func (d *DirSink) endPart() error {
	st, f := d.cur, d.curFile
	d.cur, d.curFile = nil, nil
	err := st.Finish()
	if err == nil && st.Failed() != nil {
		err = st.Failed()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("finish part %s: %w", filepath.Join(d.path, d.curPart.Final), err)
	}
	d.closed = append(d.closed, d.curPart)
	return nil
}

// Flush pushes the current part's rows to the OS. They become durable, and
// visible, only at the next checkpoint.
func (d *DirSink) Flush(context.Context) error {
	if d.state.Load() != sinkOpen || d.cur == nil {
		return nil
	}
	if err := d.cur.Flush(); err != nil {
		return engine.Permanent(fmt.Errorf("file sink: %w", err))
	}
	return nil
}

// Prepare ends the current part and makes every part ended since the last
// checkpoint durable under its temporary name, the directory entry
// included: once the engine saves the returned names with the position,
// a crash must still find the files to rename. Nil when no row arrived.
func (d *DirSink) Prepare(context.Context) ([]byte, error) {
	if d.state.Load() != sinkOpen {
		return nil, errors.New("file sink: Prepare outside Open and Close")
	}
	if d.split != "" {
		// A split's parts are published whole at Close (see WritePart).
		return nil, nil
	}
	d.prepared = true
	ready, err := d.ready()
	if err != nil || len(ready) == 0 {
		return nil, err
	}
	return json.Marshal(preparedParts{Parts: ready})
}

// ready ends the current part and returns every finished part, with their
// directory entries fsynced; they are no longer the sink's to remove.
func (d *DirSink) ready() ([]part, error) {
	if d.cur != nil {
		if err := d.endPart(); err != nil {
			return nil, fmt.Errorf("file sink: %w", err)
		}
	}
	if len(d.closed) == 0 {
		return nil, nil
	}
	if err := syncDir(d.path); err != nil {
		return nil, fmt.Errorf("file sink: %w", err)
	}
	ready := d.closed
	d.closed = nil
	return ready, nil
}

// Commit renames prepared parts into place and fsyncs the directory. A
// part already renamed (the temporary name gone, the final one there) is
// done, so Commit may be repeated, and it needs nothing Open does: the
// engine calls it before Open to finish a run that died after saving its
// position.
func (d *DirSink) Commit(_ context.Context, prepared []byte) error {
	if len(prepared) == 0 {
		return nil
	}
	var pp preparedParts
	if err := json.Unmarshal(prepared, &pp); err != nil {
		return fmt.Errorf("file sink %s: prepared parts %q: %w", d.path, prepared, err)
	}
	for _, p := range pp.Parts {
		if err := d.publish(p); err != nil {
			return fmt.Errorf("file sink: %w", err)
		}
	}
	if err := syncDir(d.path); err != nil {
		return fmt.Errorf("file sink: %w", err)
	}
	return nil
}

func (d *DirSink) publish(p part) error {
	if filepath.Base(p.Temp) != p.Temp || filepath.Base(p.Final) != p.Final || "."+p.Final+".tmp" != p.Temp {
		return fmt.Errorf("prepared part %+v is not a part file name", p)
	}
	temp, final := filepath.Join(d.path, p.Temp), filepath.Join(d.path, p.Final)
	err := os.Rename(temp, final)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if _, serr := os.Stat(final); serr == nil {
		return nil // committed before
	}
	return fmt.Errorf("prepared part %s is gone and %s does not exist, so the rows the saved position "+
		"counts as written are not there (was the directory moved or cleaned?); weave positions --reset "+
		"forgets the position, and the next run writes everything again (%w)", temp, final, err)
}

// DirSink does not implement engine.CommitsOnClose, although without
// checkpoints its parts appear only at Close: the engine checkpoints every
// run with a Committer sink (publishing parts even when it saves no
// positions) and acknowledges batches after Commit, whereas a sink that
// commits on close would keep the pipeline from resuming.

// Abort removes the parts never prepared; prepared ones stay for the
// engine to commit (now, or at the next start from the saved position).
func (d *DirSink) Abort() {
	if d.state.CompareAndSwap(sinkOpen, sinkClosed) {
		d.discard()
	}
}

func (d *DirSink) discard() {
	if d.cur != nil {
		d.cur.Discard()
		d.curFile.Close()
		os.Remove(d.curFile.Name())
		d.cur, d.curFile = nil, nil
	}
	for _, p := range d.closed {
		os.Remove(filepath.Join(d.path, p.Temp))
	}
	d.closed = nil
}

// Close publishes what is left when the engine never checkpointed (no
// positions): the run's parts appear when it ends well, as a single file
// would. When it did checkpoint, the last checkpoint covered every row of
// a run that ended well; rows after it (a run stopped without a final
// checkpoint) are covered by no saved position and will be read again, so
// they are discarded rather than published twice. A failed or cancelled
// run discards them too.
func (d *DirSink) Close() error {
	if !d.state.CompareAndSwap(sinkOpen, sinkClosed) {
		return nil
	}
	if d.prepared || d.runCtx.Err() != nil || (d.cur != nil && d.cur.Failed() != nil) {
		d.discard()
		return nil
	}
	ready, err := d.ready()
	if err != nil {
		d.discard()
		return err
	}
	for _, p := range ready {
		publish := d.publish
		if d.split != "" {
			publish = d.publishSplit
		}
		if err := publish(p); err != nil {
			return fmt.Errorf("file sink: %w", err)
		}
	}
	if len(ready) > 0 {
		if err := syncDir(d.path); err != nil {
			return fmt.Errorf("file sink: %w", err)
		}
	}
	if d.redo {
		if err := d.removeStrayParts(); err != nil {
			return fmt.Errorf("file sink: %w", err)
		}
	}
	return nil
}
