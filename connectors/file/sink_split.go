package file

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"time"

	"github.com/dataweaver/dataweaver/connectors/internal/blob"
)

// WritePart makes the directory sink write the rows of one split of a
// coordinated run (split.Sink): parts named part-<split>-000001.<ext>, …,
// published when the run ends well and not at checkpoints, so a split
// done again by another worker (its first worker died) renames its parts
// over the same names: the directory holds the split's rows once.
func (d *DirSink) WritePart(id string) error {
	d.split = blob.SplitPartBase(id)
	return nil
}

// WritePartAgain is WritePart for a split handed out before
// (split.Redoer): once its parts are published, the temporary parts an
// earlier attempt left (its worker was killed) are removed. Only then:
// a first attempt has nothing to clean, and reading the directory once
// per split would cost a job of many splits dearly.
func (d *DirSink) WritePartAgain(id string) error {
	d.redo = true
	return d.WritePart(id)
}

// splitNames names a split's part n. The temporary name is unique to the
// process: two workers briefly holding the same split (a lease that ran
// out under a slow worker) each write their own and rename it over the
// same final name, with the same rows.
func (d *DirSink) splitNames(n int) part {
	final := blob.SplitPartName(d.split, n, d.ext)
	tmp := "." + final + "." + strconv.Itoa(os.Getpid()) + "-" + strconv.FormatInt(time.Now().UnixNano(), 36) + ".tmp"
	return part{Temp: tmp, Final: final}
}

// publishSplit renames a split's part into place, replacing the part an
// earlier attempt at the split published. A temporary part that is gone
// while the final one is there was removed by another attempt that
// published the split (removeStrayParts): a worker whose lease ran out
// under it finishes as if it had published the same rows itself.
func (d *DirSink) publishSplit(p part) error {
	final := filepath.Join(d.path, p.Final)
	err := os.Rename(filepath.Join(d.path, p.Temp), final)
	if err != nil && errors.Is(err, fs.ErrNotExist) {
		if _, serr := os.Stat(final); serr == nil {
			return nil
		}
	}
	return err
}

// removeStrayParts removes the temporary parts other attempts at this
// split left: a worker killed mid-split never renames or removes its
// own. Called once this attempt's parts are published, so the split's
// rows are in place and nothing another attempt still writes is needed
// (it finds its part published, see publishSplit). Only this split's
// temporary names match: the other workers' splits are theirs.
func (d *DirSink) removeStrayParts() error {
	// "." + blob.SplitPartName + ".<pid>-<time>.tmp", as splitNames makes.
	stray := regexp.MustCompile(`^\.part-` + regexp.QuoteMeta(d.split) + `-[0-9]{6,}` +
		regexp.QuoteMeta(d.ext) + `\.[0-9]+-[0-9a-z]+\.tmp$`)
	entries, err := os.ReadDir(d.path)
	if err != nil {
		return err
	}
	removed := false
	for _, e := range entries {
		if !stray.MatchString(e.Name()) {
			continue
		}
		if err := os.Remove(filepath.Join(d.path, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove a part another attempt at the split left: %w", err)
		}
		removed = true
	}
	if removed {
		return syncDir(d.path)
	}
	return nil
}
