package pgtest

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// userHZ is the unit of /proc/<pid>/stat's times: USER_HZ, 100 on every
// Linux architecture Go supports.
const userHZ = 100

// CPU returns the CPU time the cluster's processes have used so far: the
// postmaster's own, that of the backends it has reaped (cutime, cstime)
// and that of its live children. Benchmarks report it beside the client's
// time because the server runs in other processes, which a Go profile
// does not see. Linux only.
func (s *Server) CPU() (time.Duration, error) {
	pidText, err := os.ReadFile(filepath.Join(s.data, "postmaster.pid"))
	if err != nil {
		return 0, fmt.Errorf("pgtest: server pid: %w", err)
	}
	pid, err := strconv.Atoi(strings.SplitN(string(pidText), "\n", 2)[0])
	if err != nil {
		return 0, fmt.Errorf("pgtest: postmaster.pid: %w", err)
	}
	own, err := procStat(pid)
	if err != nil {
		return 0, err
	}
	ticks := own.utime + own.stime + own.cutime + own.cstime
	procs, _ := filepath.Glob("/proc/[0-9]*")
	for _, p := range procs {
		child, err := strconv.Atoi(filepath.Base(p))
		if err != nil || child == pid {
			continue
		}
		st, err := procStat(child)
		if err != nil || st.ppid != pid {
			continue // gone meanwhile, or not ours
		}
		ticks += st.utime + st.stime
	}
	return time.Duration(ticks) * time.Second / userHZ, nil
}

type stat struct {
	ppid                         int
	utime, stime, cutime, cstime int64
}

// procStat reads the fields of /proc/<pid>/stat that CPU needs.
func procStat(pid int) (stat, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return stat{}, err
	}
	// The command name (field 2) is in parentheses and may hold spaces:
	// count fields from after its closing one, where field 3 starts.
	i := strings.LastIndexByte(string(b), ')')
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 15 {
		return stat{}, fmt.Errorf("pgtest: /proc/%d/stat: %d fields", pid, len(f))
	}
	n := func(field int) int64 { v, _ := strconv.ParseInt(f[field-3], 10, 64); return v }
	return stat{ppid: int(n(4)), utime: n(14), stime: n(15), cutime: n(16), cstime: n(17)}, nil
}
