package guest

import (
	"errors"
	"reflect"
	"strings"
)

// Field is one column of a schema as the ABI names it: Type is "int64",
// "utf8", "timestamp[us,UTC]", "decimal128(10,2)" and so on (wasmabi/ABI.md).
type Field struct {
	Name     string `json:"name"`
	Type     string `json:"type"`
	Nullable bool   `json:"nullable"`
}

// ProcessFunc handles one batch.
type ProcessFunc func(b *Batch) error

// SetupFunc runs at bind time: it reads the configuration, declares the
// columns the stage reads and writes and returns the per-batch function.
type SetupFunc func(s *Setup) (ProcessFunc, error)

var registered SetupFunc

// Stage registers the transform. Call it once, from init().
func Stage(f SetupFunc) { registered = f }

// Setup is what a SetupFunc declares the stage with.
type Setup struct {
	// StageName is the pipeline step's name ("stages[1].wasm"), for messages.
	StageName string
	// Schema is the input schema.
	Schema []Field

	config []byte // the JSON text of the stage's `config:`
	reads  []string
	writes []Field
	drops  []string
	filter bool
	errs   []string
	// eventTime is the bind request's event_time (v2).
	eventTime string
}

// Config decodes the stage's `config:` mapping into v (a pointer to a
// struct with json tags). Unknown keys are an error, so a typo in a
// pipeline file is reported when the pipeline is validated.
//
// It decodes as encoding/json would (strings, numbers, bools, slices,
// string-keyed maps, pointers, nested structs, any) without linking it
// into the guest (json.go).
func (s *Setup) Config(v any) error {
	if len(s.config) == 0 || string(s.config) == "null" {
		return nil
	}
	tree, err := parseJSON(s.config)
	if err == nil {
		rv := reflect.ValueOf(v)
		if rv.Kind() != reflect.Pointer || rv.IsNil() {
			return errors.New("config: Config needs a non-nil pointer")
		}
		err = decodeConfig(tree, rv.Elem(), "")
	}
	if err != nil {
		return errors.New("config: " + err.Error())
	}
	return nil
}

// Field returns the input column called name.
func (s *Setup) Field(name string) (Field, bool) {
	for _, f := range s.Schema {
		if f.Name == name {
			return f, true
		}
	}
	return Field{}, false
}

// Filter declares that the stage drops rows (Batch.Drop).
func (s *Setup) Filter() { s.filter = true }

// DropColumn removes an input column from the stage's output.
func (s *Setup) DropColumn(name string) {
	if _, ok := s.Field(name); !ok {
		s.fail("drop: no column " + quote(name) + " in the input (columns: " + s.columnList() + ")")
		return
	}
	s.drops = append(s.drops, name)
}

// Errorf records a setup error; the stage fails to bind with every recorded
// message. Read and Write record theirs so a setup function can declare
// all its columns and check once. The format takes fmt's common verbs for
// strings, numbers, bools and errors (package doc, "Messages").
func (s *Setup) Errorf(format string, args ...any) {
	s.fail(sprintf(format, args...))
}

func (s *Setup) fail(msg string) { s.errs = append(s.errs, msg) }

// Err returns the errors recorded so far, or nil.
func (s *Setup) Err() error {
	if len(s.errs) == 0 {
		return nil
	}
	return errors.New(strings.Join(s.errs, "; "))
}

func (s *Setup) columnList() string {
	names := make([]string, len(s.Schema))
	for i, f := range s.Schema {
		names[i] = f.Name
	}
	return strings.Join(names, ", ")
}

// read declares a read of column name and returns its slot (position in
// the batch's column descriptors), or -1 after recording an error.
func (s *Setup) read(name string, ok func(typ string) bool, want string) int {
	f, found := s.Field(name)
	if !found {
		s.fail("no column " + quote(name) + " in the input (columns: " + s.columnList() + ")")
		return -1
	}
	if !ok(f.Type) {
		s.fail("column " + quote(name) + " is " + f.Type + ", this stage reads it as " + want)
		return -1
	}
	for i, r := range s.reads {
		if r == name {
			return i
		}
	}
	s.reads = append(s.reads, name)
	return len(s.reads) - 1
}

func (s *Setup) write(name, typ string) int {
	for i, w := range s.writes {
		if w.Name == name {
			s.fail("column " + quote(name) + " is written twice")
			return i
		}
	}
	s.writes = append(s.writes, Field{Name: name, Type: typ, Nullable: true})
	return len(s.writes) - 1
}

type bindResponse struct {
	Reads  []string `json:"reads"`
	Writes []Field  `json:"writes"`
	Drops  []string `json:"drops"`
	Filter bool     `json:"filter"`
	Error  string   `json:"error,omitempty"`
	// v2 only (v2.go).
	DropAll bool `json:"drop_all,omitempty"`
	State   bool `json:"state,omitempty"`
}

type bindRequest struct {
	// EventTime is the declared event-time column (v2 only).
	EventTime string `json:"event_time"`

	ABI    int     `json:"abi"`
	Stage  string  `json:"stage"`
	Config []byte  `json:"config"`
	Schema []Field `json:"schema"`
}
