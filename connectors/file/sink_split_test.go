package file

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/dataweaver/dataweaver/connectors/conformance"
)

// TestSplitRedoCleans: two attempts at the same split write at once (the
// first one's lease ran out while it still wrote, or its worker was
// killed). The redo (WritePartAgain) publishes its part and removes the
// first attempt's temporary part, but not another split's; the first
// attempt, still running, then finds its part published by the redo and
// ends well. The directory holds one part per split.
func TestSplitRedoCleans(t *testing.T) {
	mem := conformance.Checked(t)
	dir := t.TempDir() + "/"
	open := func(id string, redo bool) *DirSink {
		t.Helper()
		s, err := newSinkYAML(t, "{path: "+q(dir)+", format: csv}", conformance.Build(mem, 8, "sink"))
		if err != nil {
			t.Fatal(err)
		}
		d := s.(*DirSink)
		if redo {
			err = d.WritePartAgain(id)
		} else {
			err = d.WritePart(id)
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Open(context.Background(), conformance.SampleSchema); err != nil {
			t.Fatal(err)
		}
		return d
	}
	first := open("in/a.csv", false)
	writeSample(t, first, mem, 0, 5)
	other := open("in/b.csv", false) // another split, in hand elsewhere
	writeSample(t, other, mem, 5, 5)
	if _, temps := dirEntries(t, dir); len(temps) != 2 {
		t.Fatalf("temporary parts %v, want the two attempts'", temps)
	}
	redo := open("in/a.csv", true)
	writeSample(t, redo, mem, 0, 5)
	if err := redo.Close(); err != nil {
		t.Fatal(err)
	}
	parts, temps := dirEntries(t, dir)
	if len(parts) != 1 || len(temps) != 1 {
		t.Fatalf("after the redo: parts %v, temporary parts %v; want split a's part and split b's temporary one", parts, temps)
	}
	if err := first.Close(); err != nil {
		t.Fatalf("the first attempt, its temporary part removed by the redo: %v", err)
	}
	if err := other.Close(); err != nil {
		t.Fatal(err)
	}
	parts, temps = dirEntries(t, dir)
	if len(parts) != 2 || len(temps) != 0 {
		t.Fatalf("parts %v, temporary parts %v; want one part per split and nothing else", parts, temps)
	}
	data, err := os.ReadFile(filepath.Join(dir, parts[0]))
	if err != nil || len(data) == 0 {
		t.Fatalf("%s: %v", parts[0], err)
	}
}
