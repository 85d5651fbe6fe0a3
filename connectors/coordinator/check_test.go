package coordinator_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/dataweaver/dataweaver/connectors/coordinator"
	_ "github.com/dataweaver/dataweaver/connectors/http"
	_ "github.com/dataweaver/dataweaver/connectors/kafka"
	_ "github.com/dataweaver/dataweaver/connectors/postgres"
	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/config"
)

// TestCheck: what a coordinated run does with each kind of sink, and a
// source it cannot split. Refusals name the step and say what to write
// instead; sinks that get a redone split's rows twice get a note; part
// sinks and sinks writing by key neither.
func TestCheck(t *testing.T) {
	const pg = `postgres: {dsn: "postgres://weave@127.0.0.1:1/db", table: t`
	for _, tc := range []struct {
		name, source, sink string
		refused, note      string // "" for none
		deadLetter         string // the dead_letter sink, when there is one
	}{
		{"directory of parts", "", `file: {path: "${OUT}/", format: csv}`, "", "", ""},
		{"one file", "", `file: {path: "${OUT}/out.csv"}`, "sink sinks[0].file replaces one output file", "", ""},
		{"one file appended to", "", `file: {path: "${OUT}/out.csv", append: true}`, "sink sinks[0].file appends to one file", "", ""},
		{"stdout", "", `file: {path: "-", format: csv}`, "", "sink sinks[0].file gets the rows of a split again", ""},
		{"http", "", `http: {url: "http://127.0.0.1:1/in"}`, "", "sink sinks[0].http gets the rows of a split again", ""},
		{"postgres append", "", pg + `}`, "", "sink sinks[0].postgres gets the rows", ""},
		{"postgres upsert", "", pg + `, mode: upsert, key: [id]}`, "", "", ""},
		{"postgres exactly_once", "", pg + `, exactly_once: true}`, "sink sinks[0].postgres keeps the pipeline's positions itself", "", ""},
		{"dead letters in one file", "", `file: {path: "${OUT}/", format: csv}`, "sink dead_letter appends to one file", "",
			`file: {path: "${OUT}/rejected.jsonl"}`},
		{"dead letters in parts", "", `file: {path: "${OUT}/", format: csv}`, "", "", `file: {path: "${OUT}/rejected/", format: jsonl}`},
		{"kafka source", `kafka: {brokers: ["127.0.0.1:1"], topics: [t], group: g, schema: {id: int64}}`, `file: {path: "${OUT}/", format: csv}`,
			"source source.kafka cannot be read in splits", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := tc.source
			if src == "" {
				src = `file: {path: "${OUT}/*.csv"}`
			}
			// Port 1 refuses connections: a refusal must come before any.
			dl := ""
			if tc.deadLetter != "" {
				dl = "on_error: dead_letter\ndead_letter:\n  " + tc.deadLetter + "\n"
			}
			f, opts := parse(t, "source:\n  "+src+"\nsinks:\n  - "+tc.sink+"\n"+dl+"coordinator:\n  urls: [\"nats://127.0.0.1:1\"]\n",
				map[string]string{"OUT": t.TempDir()})
			p, err := config.Build(f, opts)
			if err != nil {
				t.Fatal(err)
			}
			notes, err := coordinator.Check(p)
			_ = p.Close()
			if tc.refused != "" {
				if !errors.Is(err, engine.ErrInvalidConfig) || !strings.Contains(err.Error(), tc.refused) {
					t.Fatalf("Check: %v, want ErrInvalidConfig saying %q", err, tc.refused)
				}
				if _, err := coordinator.RunFile(context.Background(), f, opts, nil, nil); err == nil || !strings.Contains(err.Error(), tc.refused) {
					t.Errorf("RunFile: %v, want the same refusal before connecting", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			switch {
			case tc.note == "" && len(notes) != 0:
				t.Errorf("notes %q, want none", notes)
			case tc.note != "" && (len(notes) != 1 || !strings.Contains(notes[0], tc.note)):
				t.Errorf("notes %q, want one saying %q", notes, tc.note)
			}
		})
	}
}
