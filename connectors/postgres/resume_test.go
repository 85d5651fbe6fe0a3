package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/dataweaver/dataweaver/connectors/conformance"
	"github.com/dataweaver/dataweaver/internal/pgtest"
)

// TestResume: a new source built from the same configuration and given a
// checkpoint of an earlier one (through JSON, as the position store keeps
// it) reads exactly the rows after it.
func TestResume(t *testing.T) {
	mem := conformance.Checked(t)
	dsn := pgtest.DB(t)
	pgtest.Exec(t, dsn, `CREATE TABLE ev (id bigint, v text)`,
		`INSERT INTO ev SELECT i, 'v' || i FROM generate_series(1, 95) i`)
	conf := fmt.Sprintf("{dsn: %s, table: ev, cursor: id, stop_at_end: true}", q(dsn))
	ctx := context.Background()

	first := mustSource(t, conf, conformance.Build(mem, 10, "source"))
	if _, err := first.Open(ctx); err != nil {
		t.Fatal(err)
	}
	ids, cp := readN(t, first, 4)
	first.Close()
	if len(ids) != 40 || ids[39] != 40 {
		t.Fatalf("first source read %d rows, last %v", len(ids), ids[len(ids)-1])
	}
	if s := fmt.Sprint(cp); s != "cursor id > 40" {
		t.Errorf("checkpoint text %q, want %q", s, "cursor id > 40")
	}
	pos, err := json.Marshal(cp)
	if err != nil {
		t.Fatal(err)
	}

	// start is where the first run began; the saved position wins.
	second := mustSource(t, conf[:len(conf)-1]+", start: '5'}", conformance.Build(mem, 10, "source"))
	if err := second.Resume(pos); err != nil {
		t.Fatalf("Resume(%s): %v", pos, err)
	}
	if _, err := second.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	rest, _ := readN(t, second, 100)
	if len(rest) != 55 || rest[0] != 41 || rest[54] != 95 {
		t.Fatalf("resumed source read %d rows from %v, want 41..95", len(rest), rest)
	}
	for i, id := range rest {
		if id != int64(41+i) {
			t.Fatalf("resumed row %d is id %d, want %d", i, id, 41+i)
		}
	}
}

// TestResumeRefused: a position saved with another cursor column, of
// another type, or not a cursor position at all is refused, naming both.
func TestResumeRefused(t *testing.T) {
	mem := conformance.Checked(t)
	dsn := pgtest.DB(t)
	pgtest.Exec(t, dsn, `CREATE TABLE ev (id bigint, updated_at timestamptz)`, `INSERT INTO ev VALUES (1, now())`)
	ctx := context.Background()
	for _, tc := range []struct {
		name, pos, at, want string
	}{
		{"column", `{"column":"updated_at","type":"timestamp with time zone","cursor":"2024-01-01 00:00:00+00"}`, "Resume",
			`saved position cursor updated_at > 2024-01-01 00:00:00+00 is for cursor column "updated_at", but the source's cursor is "id"`},
		{"type", `{"column":"id","type":"text","cursor":"abc"}`, "Open",
			`saved position cursor id > abc is a value of type text, but cursor "id" now has type bigint`},
		{"not a position", `[1, 2]`, "Resume", "is not a cursor position"},
		{"no column", `{"cursor":"5"}`, "Resume", "names no cursor column and type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := mustSource(t, fmt.Sprintf("{dsn: %s, table: ev, cursor: id, stop_at_end: true}", q(dsn)), conformance.Build(mem, 10, "source"))
			defer src.Close()
			err := src.Resume([]byte(tc.pos))
			if err == nil && tc.at == "Open" {
				_, err = src.Open(ctx)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("%s of %s: %v, want an error containing %q", tc.at, tc.pos, err, tc.want)
			}
		})
	}
}

// FuzzResume: whatever bytes a position store hands back, Resume either
// refuses them or takes a position of the configured cursor column; it
// never panics.
func FuzzResume(f *testing.F) {
	f.Add([]byte(`{"column":"id","type":"bigint","cursor":"120000"}`))
	f.Add([]byte(`{"column":"updated_at","type":"timestamp with time zone","cursor":"2024-01-01 00:00:00+00"}`))
	f.Add([]byte(`{"column":"id"}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`"id"`))
	f.Fuzz(func(t *testing.T, pos []byte) {
		src := mustSource(t, "{dsn: 'postgres://x@127.0.0.1:1/db', table: ev, cursor: id}", conformance.Build(memory.NewGoAllocator(), 10, "source"))
		if err := src.Resume(pos); err != nil {
			return
		}
		if r := src.resumed; r == nil || r.Column != "id" || r.Type == "" {
			t.Fatalf("Resume(%q) took %+v", pos, r)
		}
	})
}
