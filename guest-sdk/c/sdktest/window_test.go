package sdktest_test

import (
	"bufio"
	"fmt"
	"strings"
	"testing"

	"github.com/dataweaver/dataweaver/internal/windowtest"
)

// TestWindowHop: dw_hop answers as the definition, on random times and
// widths and at the ends of int64.
func TestWindowHop(t *testing.T) {
	p := start(t, "window")
	defer p.close(t)
	cases := windowtest.HopCases()
	w := bufio.NewWriter(p.in)
	for _, tc := range cases {
		fmt.Fprintln(w, tc.Request())
	}
	go w.Flush()
	for _, tc := range cases {
		line, err := p.out.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if got, want := strings.TrimSpace(line), tc.Want(); got != want {
			t.Errorf("dw_hop(%d, %d, %d) = %s, want %s", tc.T, tc.W, tc.S, got, want)
		}
	}
}

// TestWindowSessions: dw_session_add and dw_sessions_closed, fed one
// key's rows out of order under a watermark, give the sessions their
// definition gives over the rows not late, and close some before the end.
func TestWindowSessions(t *testing.T) {
	p := start(t, "window")
	defer p.close(t)
	closedEarly := 0
	for i, c := range windowtest.SessionCases() {
		if _, err := fmt.Fprintln(p.in, c.Request()); err != nil {
			t.Fatal(err)
		}
		var lines []string
		for {
			line, err := p.out.ReadString('\n')
			if err != nil {
				t.Fatal(err)
			}
			if strings.TrimSpace(line) == "end" {
				break
			}
			lines = append(lines, line)
		}
		closed, err := c.Check(lines)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		closedEarly += closed
	}
	if closedEarly == 0 {
		t.Fatal("the watermark closed no session before the end: dw_sessions_closed is untested")
	}
}
