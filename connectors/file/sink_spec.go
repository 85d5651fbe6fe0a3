package file

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/connectors/internal/blob"
	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/spec"
	"github.com/dataweaver/dataweaver/format"
)

var sinkSpec = spec.New("file").
	Summary("Writes CSV, JSON Lines, Parquet, Arrow IPC or Avro to a file, a directory of part files, or stdout.").
	Description("A single file is written under a temporary name in the same directory and renamed into "+
		"place when the run ends well, so nobody reads a half-written file and a failed run leaves "+
		"any previous file untouched (set atomic: false to write in place instead). An existing file "+
		"is replaced, as cp and most export tools do; set overwrite: false to refuse. Because each run "+
		"replaces the file, a pipeline with such a sink does not resume: every run starts from the start.\n\n"+
		"A path ending in / (or naming an existing directory) writes part files part-000001.<format>, "+
		"part-000002.<format>, … instead. Each part is written under a hidden temporary name and renamed "+
		"into place at a checkpoint, when the source position it covers is saved (or at the end of the "+
		"run when positions are off), so a resumed run adds new parts and the directory holds every row "+
		"once; a reader globs dir/part-*.<format>. A part is started only when a row arrives. The "+
		"directory is appended to across runs: without saved positions (--from-start, a source that "+
		"cannot resume) a second run adds a second copy of its rows. Give each sink a directory of its "+
		"own: at start a sink deletes the temporary parts it finds there, as a killed run's leftovers.\n\n"+
		"append: true adds to the end of one CSV or JSON Lines file and makes every flush durable "+
		"(fsync), which a message-bus source needs before it acknowledges; a dead-letter file appends by "+
		"default, so a later run never replaces the rejects of an earlier one.\n\n"+
		"Flush (at every acknowledgement) pushes the batches written so far through the format, the "+
		"compressor and the write buffer to the operating system; sync: true also waits for the disk.").
	Field(
		spec.String("path").
			Desc("File to write; a directory for part files (ending in /); or - for stdout.").
			Example("out/orders.parquet").Example("out/clean.csv.gz").Example("out/orders/").Example("-"),
		spec.String("format").Optional().
			Desc("csv, jsonl, parquet, arrow or avro. Default: from the file extension (ignoring .gz/.zst). "+
				"Required for stdout and for a directory."),
		spec.String("compression").Default(compAuto).
			Desc("Text formats (csv, jsonl): none, gzip or zstd, applied to the whole file (to each part in a "+
				"directory, named .csv.gz, .jsonl.zst); auto picks gzip for .gz, zstd for .zst, else none. "+
				"Binary formats compress inside the file, and auto keeps their default: parquet snappy (or "+
				"zstd, gzip, none), avro null (or deflate, zstd), arrow none (or zstd, lz4).").
			Example("zstd"),
		spec.Object("csv",
			delimiterField(),
			headerField(false),
		).Desc("CSV options."),
		spec.Bool("mkdir").Default(true).
			Desc("Create missing parent directories (and the directory itself for part files)."),
		spec.Bool("overwrite").Default(true).
			Desc("Replace an existing file. With false, the run fails at start if the file exists."),
		spec.Bool("atomic").Default(true).
			Desc("Write to a temporary file and rename it into place when the run succeeds. Set false when "+
				"something tails the file while it grows, or when an acknowledging source (a message bus) must "+
				"find flushed data at the final path after a crash; a failed run then leaves a partial file. "+
				"Part files are always renamed into place."),
		spec.Bool("append").Default(false).
			Desc("Add to the end of the file instead of replacing it (csv and jsonl, uncompressed). Every "+
				"flush is fsynced, so acknowledged rows survive a crash; a CSV header is written only when "+
				"the file is new or empty (an existing one must name the same columns), and an incomplete "+
				"last row left by a crash is cut off at start (a tail over 1 MiB is refused, not cut). Appending is at-least-once: after a crash, "+
				"rows flushed since the last checkpoint (or acknowledgement) are read and appended again. "+
				"Default true for a dead-letter file."),
		spec.Int("part_rows").Default(0).Advance().
			Desc("Directory mode: start a new part once the current one holds at least this many rows (it "+
				"is published at the next checkpoint). 0: one part per checkpoint.").
			Example("1000000").
			Validate(func(v any) error {
				if v.(int) < 0 {
					return errNegative
				}
				return nil
			}),
		spec.Bool("sync").Default(false).Advance().
			Desc("fsync at every flush and on close, so acknowledged data survives a power cut, at a large "+
				"cost in speed. Append mode and part files always fsync at their commit points."),
	).
	Scalar("path").
	WithExample("Parquet with zstd", `sinks:
  - file: {path: out/orders.parquet, compression: zstd}`).
	WithExample("Gzipped CSV, tab-separated", `sinks:
  - file:
      path: out/orders.tsv.gz
      format: csv
      csv: {delimiter: "\t"}`).
	WithExample("Parquet parts that a resumed run adds to", `sinks:
  - file: {path: out/orders/, format: parquet}`).
	WithExample("Dead letters appended to one JSON Lines file", `dead_letter:
  file: out/rejects.jsonl`).
	WithExample("JSON Lines to stdout", `sinks:
  - file: {path: "-", format: jsonl}`)

var errNegative = errors.New("must be 0 or more")

// sinkConfig is the decoded and checked configuration every sink mode
// starts from.
type sinkConfig struct {
	path      string
	format    *format.Format
	outer     string // compression around the stream (text formats)
	wopts     format.WriteOptions
	mkdir     bool
	overwrite bool
	atomic    bool
	sync      bool
	append    bool
	partRows  int64
	logger    *slog.Logger // may be nil
}

// isDirPath reports whether path names a directory of part files: it
// ends in a separator, or it is an existing directory (writing a single
// file there would fail anyway).
func isDirPath(path string) bool {
	if strings.HasSuffix(path, "/") || strings.HasSuffix(path, string(os.PathSeparator)) {
		return true
	}
	info, err := os.Stat(path)
	return err == nil && info.IsDir()
}

func newSink(conf *spec.Parsed, b engine.Build) (engine.Sink, error) {
	c := sinkConfig{
		path:      conf.String("path"),
		mkdir:     conf.Bool("mkdir"),
		overwrite: conf.Bool("overwrite"),
		atomic:    conf.Bool("atomic"),
		sync:      conf.Bool("sync"),
		append:    conf.Bool("append"),
		partRows:  int64(conf.Int("part_rows")),
		logger:    b.Logger,
	}
	if c.path == "" {
		return nil, configErr(conf, "path", "path is empty")
	}
	dir := c.path != "-" && isDirPath(c.path)
	var err error
	if dir && conf.String("format") == "" {
		return nil, configErr(conf, "format", "format is required with a directory path (%s): parts are named part-000001.<ext>; one of %v", c.path, format.Names())
	}
	if c.format, err = lookupFormat(conf, c.path); err != nil {
		return nil, err
	}
	c.wopts = format.WriteOptions{Mem: b.Mem, Name: c.path}
	if c.wopts.Mem == nil {
		c.wopts.Mem = memory.NewGoAllocator()
	}
	if err := c.compression(conf); err != nil {
		return nil, err
	}
	if conf.Given("csv") && c.format.Name != "csv" {
		return nil, configErr(conf, "csv", "csv options given but the format is %s", c.format.Name)
	}
	if csv := conf.Object("csv"); csv != nil && c.format.Name == "csv" {
		if c.wopts.Delimiter, err = parseDelimiter(csv.String("delimiter")); err != nil {
			return nil, configErr(conf, "csv", "%v", err)
		}
		c.wopts.NoHeader = !csv.Bool("header")
	}
	if dir {
		return c.dirSink(conf)
	}
	if conf.Given("part_rows") {
		return nil, configErr(conf, "part_rows", "part_rows applies to a directory of part files; end path with / to write one")
	}
	if err := c.deadLetterDefaults(conf, b); err != nil {
		return nil, err
	}
	if c.append {
		if err := c.checkAppend(conf); err != nil {
			return nil, err
		}
	}
	return &Sink{sinkConfig: c}, nil
}

// compression resolves the compression field against the format.
func (c *sinkConfig) compression(conf *spec.Parsed) (err error) {
	c.outer, err = blob.WriteCompression(conf, c.format, c.path, &c.wopts)
	return err
}

// deadLetterDefaults keeps a later run from replacing the rejects of an
// earlier one: a dead-letter file appends unless told otherwise, and a
// format that cannot be appended to needs a directory of parts.
func (c *sinkConfig) deadLetterDefaults(conf *spec.Parsed, b engine.Build) error {
	if !b.DeadLetter || c.path == "-" || (conf.Given("overwrite") && !c.overwrite) {
		return nil
	}
	switch {
	case !c.format.Text:
		return configErr(conf, "path", "a dead-letter %s file cannot be appended to, and replacing it would lose an earlier run's rejects; write parts to a directory instead (path: %s/) or use jsonl", c.format.Name, stem(c.path))
	case c.outer != compNone:
		return configErr(conf, "path", "a dead-letter file is appended to, so that a later run keeps the rejects of earlier ones, and appending needs an uncompressed file (a crash would leave an unfinished %s stream that later appends could not be read past): drop the compression, or write compressed parts to a directory (path: %s/, format: %s, compression: %s)",
			c.outer, stem(c.path), c.format.Name, c.outer)
	case conf.Given("append") && !c.append:
		return configErr(conf, "append", "a dead-letter file must not be replaced by a later run (it would lose the earlier run's rejects): drop append: false, set overwrite: false, or use a directory path ending in /")
	}
	c.append = true
	return nil
}

// stem is path without its compression suffix and extension, the
// directory a message suggests instead of the file.
func stem(path string) string {
	for _, sfx := range []string{".gz", ".gzip", ".zst", ".zstd"} {
		path = strings.TrimSuffix(path, sfx)
	}
	return strings.TrimSuffix(path, filepath.Ext(path))
}

// checkAppend refuses what append mode cannot do.
func (c *sinkConfig) checkAppend(conf *spec.Parsed) error {
	switch {
	case c.path == "-":
		return configErr(conf, "append", "append needs a file; stdout is a stream already")
	case !c.format.Text:
		return configErr(conf, "append", "append works for csv and jsonl; a %s file has a footer or header that cannot be added to: write parts to a directory (a path ending in /) instead", c.format.Name)
	case c.outer != compNone:
		// A crash leaves the last compressed member unterminated; a member
		// appended after it would make the whole rest of the file unreadable.
		return configErr(conf, "compression", "append writes uncompressed files: a crash would leave an unfinished %s stream that later appends could not be read past; use a directory of compressed parts (a path ending in /)", c.outer)
	case conf.Given("atomic") && c.atomic:
		return configErr(conf, "atomic", "append writes in place; atomic: true does not apply")
	case !c.overwrite:
		return configErr(conf, "overwrite", "append adds to an existing file; overwrite: false contradicts it")
	}
	return nil
}
