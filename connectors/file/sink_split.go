package file

import (
	"os"
	"path/filepath"
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
// earlier attempt at the split published.
func (d *DirSink) publishSplit(p part) error {
	return os.Rename(filepath.Join(d.path, p.Temp), filepath.Join(d.path, p.Final))
}
