package codec

import (
	"errors"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/protobuf/proto"

	"github.com/dataweaver/dataweaver/format"
)

// FuzzDecode: any message either decodes to one row or is one reject
// carrying its bytes (their first RawPrefix when over max_record_bytes,
// which limit sets when not 0); never an error, a panic or a leaked buffer.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"id":1,"ts":"2024-01-01T00:00:00Z"}`), false, uint8(0))
	f.Add([]byte("{\"id\":\n1}"), false, uint8(0))
	f.Add([]byte{0x02, 0x00, 0x00, 0x02}, true, uint8(0))
	f.Add([]byte{0x02, 0x02, 0x06, 'a', 'b', 'c', 0x00, 0x02}, true, uint8(0))
	f.Fuzz(func(t *testing.T, msg []byte, useAvro bool, limit uint8) {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		defer mem.AssertSize(t, 0)
		conf := Config{Name: JSON, Schema: testSchema, MaxRecordBytes: int(limit)}
		if useAvro {
			conf = Config{Name: Avro, AvroSchema: testAvsc, MaxRecordBytes: int(limit)}
		}
		dec, err := NewDecoder(conf, mem)
		if err != nil {
			t.Fatal(err)
		}
		rec := decodeTwice(t, dec, msg, int(limit))
		defer rec.Release()
	})
}

// FuzzDecodeProtobuf: any bytes are one row or one reject carrying them,
// never an error, a panic or a leaked buffer; and the codec agrees with
// protobuf-go: a message it accepts, protobuf-go reads too, and the row
// it made encodes to the message protobuf-go read (unknown fields aside,
// which the codec has no column for).
func FuzzDecodeProtobuf(f *testing.F) {
	conf := everythingConf
	md := descriptorOf(f, conf) // compiles the .proto once, cached in conf
	for _, text := range everythingMessages {
		f.Add(wireOf(f, md, text), uint8(0))
	}
	f.Add([]byte{0xa8, 0x01, 0x05, 0xa8, 0x01, 0x06}, uint8(0))                  // unpacked repeated
	f.Add([]byte{0xc2, 0x01, 0x03, 0x0a, 0x01, 'k', 0xc2, 0x01, 0x00}, uint8(0)) // map entries, one empty
	f.Add([]byte{0xa2, 0x01, 0x02, 0x0a, 0x00, 0xa2, 0x01, 0x02, 0x12, 0x00}, uint8(0))
	f.Fuzz(func(t *testing.T, msg []byte, limit uint8) {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		defer mem.AssertSize(t, 0)
		c := conf
		c.MaxRecordBytes = int(limit)
		dec, err := NewDecoder(c, mem)
		if err != nil {
			t.Fatal(err)
		}
		rec := decodeTwice(t, dec, msg, int(limit))
		defer rec.Release()
		if rec.NumRows() != 2 {
			return
		}
		want, err := parse(md, msg)
		if err != nil {
			t.Fatalf("the codec accepts a message protobuf-go rejects: %v", err)
		}
		enc, err := NewEncoder(conf, rec.Schema(), mem)
		if err != nil {
			t.Fatal(err)
		}
		var out []byte
		if err := enc.Encode(rec, func(row int, m []byte) error {
			if row == 0 {
				out = append(out, m...)
			}
			return nil
		}); err != nil {
			t.Fatalf("Encode of a decoded row: %v", err)
		}
		back, err := parse(md, out)
		if err != nil {
			t.Fatalf("protobuf-go cannot read the re-encoded row: %v", err)
		}
		if !proto.Equal(want, back) {
			t.Fatalf("protobuf-go read %v; the codec's row encodes to %v", want, back)
		}
	})
}

// decodeTwice decodes msg twice in one batch and checks what every codec
// promises for any bytes: each copy is a row or a reject carrying them,
// never an error; over limit (when not 0) a too-large reject carrying
// their first RawPrefix. On a failure it releases the record first, so the
// checked allocator reports the failure rather than a leak as well; else
// the caller releases it.
func decodeTwice(t *testing.T, dec Decoder, msg []byte, limit int) arrow.RecordBatch {
	t.Helper()
	rec, rej, err := dec.Decode([][]byte{msg, msg})
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if n := rec.NumRows(); n+int64(len(rej)) != 2 {
		rec.Release()
		t.Fatalf("%d rows and %d rejects for 2 messages", n, len(rej))
	}
	over := limit > 0 && len(msg) > limit
	if over && len(rej) != 2 {
		rec.Release()
		t.Fatalf("%d rejects for 2 messages over the limit of %d bytes", len(rej), limit)
	}
	for _, r := range rej {
		want := msg
		if over {
			want = msg[:min(len(msg), RawPrefix)]
		}
		if over != errors.Is(r.Err, format.ErrRecordTooLarge) || string(r.Raw) != string(want) {
			rec.Release()
			t.Fatalf("reject raw %q, err %v; want raw %q, too large %v", r.Raw, r.Err, want, over)
		}
	}
	return rec
}
