// Package sysmem finds how much memory this process may use: the memory
// limit of its cgroup (a container's or a systemd unit's) when one is set,
// else the machine's physical memory.
//
// It reads files rather than calling sysinfo(2) so that one code path,
// tested with file trees for cgroup v1 and v2, serves containers and bare
// machines alike.
package sysmem

import (
	"bufio"
	"bytes"
	"io/fs"
	"os"
	"path"
	"strconv"
	"strings"
)

// Limit is the memory this process may use, and where the figure comes
// from ("cgroup memory.max", "/proc/meminfo"); 0 and "" when no figure
// can be found (not Linux).
func Limit() (int64, string) { return limit(os.DirFS("/")) }

// limit reads the figures under root, a file system laid out like "/".
func limit(root fs.FS) (int64, string) {
	total, from := memTotal(root)
	if cg, cgFrom := cgroupLimit(root); cg > 0 && (total == 0 || cg < total) {
		return cg, cgFrom
	}
	return total, from
}

// memTotal is MemTotal of /proc/meminfo in bytes.
func memTotal(root fs.FS) (int64, string) {
	data, err := fs.ReadFile(root, "proc/meminfo")
	if err != nil {
		return 0, ""
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:")
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
		if err != nil || kb <= 0 {
			return 0, ""
		}
		return kb << 10, "/proc/meminfo"
	}
	return 0, ""
}

// unlimited: cgroup v1 writes "no limit" as the largest page-aligned
// int64, v2 as "max"; anything at or above this is no limit.
const unlimited = 1 << 62

// cgroupLimit is the memory limit of the process's own cgroup, v2 first,
// then v1, looked up at the path /proc/self/cgroup names and at the root
// of the cgroup mount (where a container sees its own cgroup).
func cgroupLimit(root fs.FS) (int64, string) {
	v1, v2 := "", ""
	if data, err := fs.ReadFile(root, "proc/self/cgroup"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			// hierarchy-ID:controllers:path
			parts := strings.SplitN(line, ":", 3)
			if len(parts) != 3 {
				continue
			}
			switch {
			case parts[0] == "0" && parts[1] == "":
				v2 = parts[2]
			case hasController(parts[1], "memory"):
				v1 = parts[2]
			}
		}
	}
	candidates := []struct{ file, from string }{
		{path.Join("sys/fs/cgroup", v2, "memory.max"), "cgroup memory.max"},
		{"sys/fs/cgroup/memory.max", "cgroup memory.max"},
		{path.Join("sys/fs/cgroup/memory", v1, "memory.limit_in_bytes"), "cgroup memory.limit_in_bytes"},
		{"sys/fs/cgroup/memory/memory.limit_in_bytes", "cgroup memory.limit_in_bytes"},
	}
	for _, c := range candidates {
		data, err := fs.ReadFile(root, c.file)
		if err != nil {
			continue
		}
		s := strings.TrimSpace(string(data))
		if s == "max" {
			return 0, ""
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 || n >= unlimited {
			return 0, ""
		}
		return n, c.from
	}
	return 0, ""
}

func hasController(list, name string) bool {
	for _, c := range strings.Split(list, ",") {
		if c == name {
			return true
		}
	}
	return false
}
