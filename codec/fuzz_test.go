package codec

import (
	"testing"

	"github.com/apache/arrow/go/v15/arrow/memory"
)

// FuzzDecode: any message either decodes to one row or is one reject
// carrying its bytes; never an error, a panic or a leaked buffer.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"id":1,"ts":"2024-01-01T00:00:00Z"}`), false)
	f.Add([]byte("{\"id\":\n1}"), false)
	f.Add([]byte{0x02, 0x00, 0x00, 0x02}, true)
	f.Add([]byte{0x02, 0x02, 0x06, 'a', 'b', 'c', 0x00, 0x02}, true)
	f.Fuzz(func(t *testing.T, msg []byte, useAvro bool) {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		defer mem.AssertSize(t, 0)
		conf := Config{Name: JSON, Schema: testSchema}
		if useAvro {
			conf = Config{Name: Avro, AvroSchema: testAvsc}
		}
		dec, err := NewDecoder(conf, mem)
		if err != nil {
			t.Fatal(err)
		}
		rec, rej, err := dec.Decode([][]byte{msg, msg})
		if err != nil {
			t.Fatalf("Decode: %v", err)
		}
		defer rec.Release()
		if rec.NumRows()+int64(len(rej)) != 2 {
			t.Fatalf("%d rows and %d rejects for 2 messages", rec.NumRows(), len(rej))
		}
		for _, r := range rej {
			if string(r.Raw) != string(msg) {
				t.Fatalf("reject raw %q, want %q", r.Raw, msg)
			}
		}
	})
}
