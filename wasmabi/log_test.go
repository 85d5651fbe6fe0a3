package wasmabi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/engine"
)

// Mirrors of the hostile guest's constants (testdata/hostile), and
// escaped, what escape makes of its escapes.
const (
	floodLogs = 200_000
	longLog   = 10_000
	escaped   = `\x1b]0;pwned\a\x1b[31m\u009b1m`
	escapes   = "\x1b]0;pwned\x07\x1b[31m\u009b1m"
)

// TestGuestLogFlood: a guest that logs 200k times per batch gets LogBurst
// lines, then LogRate a second, and one "N messages suppressed" line each
// time logging resumes and at Close; the counts add up to every call
// exactly. The stage's clock is a fake one the test moves, so the figures
// do not depend on the machine's speed.
func TestGuestLogFlood(t *testing.T) {
	mem := conformance.Checked(t)
	logs := &logBuffer{}
	s := newStage(t, "hostile", map[string]any{"mode": "log-flood"}, mem, testConfig().WithLogger(logs.logger()))
	now := time.Unix(1e9, 0)
	s.log.now = func() time.Time { return now }
	b := bindHostile(t, s, mem)
	wantOut(t, s, b.good, "ok 1") // 100 logged, 199,900 suppressed
	now = now.Add(time.Second)
	wantOut(t, s, b.good, "ok 2") // "199900 suppressed", 10 logged, 199,990 suppressed
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	got := logs.String()
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	logged := strings.Count(got, "msg=flood ")
	var counts []int
	for _, m := range regexp.MustCompile(`msg="guest log: (\d+) messages suppressed"`).FindAllStringSubmatch(got, -1) {
		n, _ := strconv.Atoi(m[1])
		counts = append(counts, n)
	}
	want := []int{floodLogs - LogBurst, floodLogs - LogRate}
	if logged != LogBurst+LogRate || fmt.Sprint(counts) != fmt.Sprint(want) || len(lines) != logged+len(counts) {
		t.Fatalf("%d lines: %d guest lines and suppressed counts %v; want %d and %v", len(lines), logged, counts, LogBurst+LogRate, want)
	}
	if logged+counts[0]+counts[1] != 2*floodLogs {
		t.Fatalf("%d logged + %v suppressed != %d calls", logged, counts, 2*floodLogs)
	}
	if !strings.Contains(lines[LogBurst], `level=WARN msg="guest log: 199900 messages suppressed" stage=stages[0].wasm burst=100 per_second=10`) {
		t.Errorf("line %d is %q, want the suppressed count before logging resumes", LogBurst, lines[LogBurst])
	}
	t.Logf("%d lines, %d bytes for %d calls", len(lines), len(got), 2*floodLogs)
}

// TestGuestLogLong: a message over MaxLogMessage is logged truncated with
// its length, and a call that claims more bytes than the guest's memory
// holds (log(0, 100 MB)) is refused, not logged in part.
func TestGuestLogLong(t *testing.T) {
	mem := conformance.Checked(t)
	logs := &logBuffer{}
	s := newStage(t, "hostile", map[string]any{"mode": "log-long"}, mem, testConfig().WithLogger(logs.logger()))
	b := bindHostile(t, s, mem)
	wantOut(t, s, b.good, "ok 1")
	got := logs.String()
	for _, want := range []string{
		`level=INFO msg="` + strings.Repeat("x", MaxLogMessage) + fmt.Sprintf(`… (truncated, %d bytes)" stage=stages[0].wasm`, longLog),
		`level=WARN msg="guest log call pointed outside its memory" stage=stages[0].wasm ptr=0 len=104857600`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("log does not say %.200q…; log:\n%.2000s", want, got)
		}
	}
	if strings.Contains(got, strings.Repeat("x", MaxLogMessage+1)) {
		t.Errorf("log holds more than %d bytes of the message", MaxLogMessage)
	}
}

// TestGuestEscapes: the terminal escapes a guest puts in a log line, a
// row's reject reason, its stderr before a trap, and a bind error reach
// neither the JSON log (slog's JSON handler escapes C0 but passes C1 and
// DEL through) nor any error message raw. (slog's text handler quotes
// control characters itself.)
func TestGuestEscapes(t *testing.T) {
	mem := conformance.Checked(t)
	var js bytes.Buffer
	jsonLog := slog.New(slog.NewJSONHandler(&js, nil))
	s := newStage(t, "hostile", map[string]any{"mode": "escape"}, mem, testConfig().WithLogger(jsonLog))
	b := bindHostile(t, s, mem)
	out, rejects, err := s.Process(context.Background(), b.good)
	if err != nil {
		t.Fatal(err)
	}
	out.Release()
	if len(rejects) != 1 {
		t.Fatalf("rejects %v, want row 0's", rejects)
	}
	_, _, trap := s.Process(context.Background(), b.boom)
	if !errors.Is(trap, ErrGuestTrap) {
		t.Fatalf("boom batch: %v, want %v", trap, ErrGuestTrap)
	}
	bs := newStage(t, "hostile", map[string]any{"mode": "bind-escape"}, mem, testConfig())
	_, bind := bs.Bind(context.Background(), b.schema)
	if !errors.Is(bind, engine.ErrSchema) {
		t.Fatalf("bind: %v, want %v", bind, engine.ErrSchema)
	}
	texts := map[string]string{
		"reject":     rejects[0].Err.Error(),
		"trap":       trap.Error(),
		"bind":       bind.Error(),
		"error text": fmt.Sprintf("%v", &GuestError{Stage: "s", Module: "m", Export: "e", Err: errors.New(escapes)}),
	}
	for name, msg := range texts {
		jsonLog.Error(name, "err", msg)
	}
	texts["json log"] = js.String()
	for name, want := range map[string]string{
		"reject": `reject ` + escaped, "trap": `stderr ` + escaped, "bind": `bind ` + escaped,
		"error text": escaped, "json log": `"msg":"log \\x1b]0;pwned\\a\\x1b[31m\\u009b1m"`,
	} {
		got := texts[name]
		if strings.ContainsAny(got, "\x1b\x07\u009b") || !strings.Contains(got, want) {
			t.Errorf("%s: %q, want %q and no raw escape", name, got, want)
		}
	}
}
