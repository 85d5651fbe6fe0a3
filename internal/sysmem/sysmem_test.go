package sysmem

import (
	"runtime"
	"syscall"
	"testing"
	"testing/fstest"
)

const meminfo = "MemTotal:       24683772 kB\nMemFree:        1000 kB\n"

func TestLimit(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files fstest.MapFS
		want  int64
		from  string
	}{
		{"bare machine", fstest.MapFS{"proc/meminfo": {Data: []byte(meminfo)}}, 24683772 << 10, "/proc/meminfo"},
		{"cgroup v2 at the process's path", fstest.MapFS{
			"proc/meminfo":     {Data: []byte(meminfo)},
			"proc/self/cgroup": {Data: []byte("0::/system.slice/weave.service\n")},
			"sys/fs/cgroup/system.slice/weave.service/memory.max": {Data: []byte("2147483648\n")},
		}, 2 << 30, "cgroup memory.max"},
		{"cgroup v2 container root", fstest.MapFS{
			"proc/meminfo":             {Data: []byte(meminfo)},
			"proc/self/cgroup":         {Data: []byte("0::/\n")},
			"sys/fs/cgroup/memory.max": {Data: []byte("536870912\n")},
		}, 512 << 20, "cgroup memory.max"},
		{"cgroup v2 no limit", fstest.MapFS{
			"proc/meminfo":             {Data: []byte(meminfo)},
			"proc/self/cgroup":         {Data: []byte("0::/\n")},
			"sys/fs/cgroup/memory.max": {Data: []byte("max\n")},
		}, 24683772 << 10, "/proc/meminfo"},
		{"cgroup v1 at the process's path", fstest.MapFS{
			"proc/meminfo":     {Data: []byte(meminfo)},
			"proc/self/cgroup": {Data: []byte("5:devices:/\n4:memory:/job/7\n0::/\n")},
			"sys/fs/cgroup/memory/job/7/memory.limit_in_bytes": {Data: []byte("1073741824\n")},
		}, 1 << 30, "cgroup memory.limit_in_bytes"},
		{"cgroup v1 no limit", fstest.MapFS{
			"proc/meminfo":     {Data: []byte(meminfo)},
			"proc/self/cgroup": {Data: []byte("4:memory:/job/7\n")},
			"sys/fs/cgroup/memory/job/7/memory.limit_in_bytes": {Data: []byte("9223372036854771712\n")},
		}, 24683772 << 10, "/proc/meminfo"},
		{"cgroup limit above the machine's memory", fstest.MapFS{
			"proc/meminfo":             {Data: []byte(meminfo)},
			"sys/fs/cgroup/memory.max": {Data: []byte("107374182400\n")},
		}, 24683772 << 10, "/proc/meminfo"},
		{"nothing to read", fstest.MapFS{}, 0, ""},
		{"garbage", fstest.MapFS{"proc/meminfo": {Data: []byte("MemTotal: lots\n")}}, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, from := limit(tc.files)
			if got != tc.want || from != tc.from {
				t.Errorf("limit = %d from %q, want %d from %q", got, from, tc.want, tc.from)
			}
		})
	}
}

// TestLimitOnThisMachine checks the real files against sysinfo(2), which
// counts the same physical memory another way.
func TestLimitOnThisMachine(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("sysmem reads Linux files; elsewhere Limit is 0")
	}
	var si syscall.Sysinfo_t
	if err := syscall.Sysinfo(&si); err != nil {
		t.Fatal(err)
	}
	total := int64(si.Totalram) * int64(si.Unit)
	got, from := Limit()
	if got <= 0 || got > total {
		t.Fatalf("Limit = %d (from %q), want between 1 and the machine's %d bytes", got, from, total)
	}
	if from == "/proc/meminfo" && got != total {
		t.Errorf("MemTotal %d, sysinfo %d", got, total)
	}
}
