package codec

import (
	"bytes"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/dataweaver/dataweaver/format"
)

// TestMaxRecordBytes: a message over max_record_bytes is a reject carrying
// the limit and only the first RawPrefix bytes of it, in its place among
// the other rejects; it is not decoded (it is valid, so decoding it would
// make a row, and would copy it: the batch allocates less than one of
// them). The messages around it decode as usual.
func TestMaxRecordBytes(t *testing.T) {
	const limit = 4096
	const bigName = 8 << 20
	for _, tc := range []struct {
		name string
		conf Config
		bad  []byte // a small message that does not decode
	}{
		{"json", Config{Name: JSON, Schema: testSchema}, []byte(`{"id": "x"}`)},
		{"avro", Config{Name: Avro, AvroSchema: testAvsc}, []byte{0x02}},
		{"protobuf", protoConf("row.proto", "dw.test.v1.TestRow"), []byte{0x08, 0x80}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := checked(t)
			want, enc, good := encodeTestRows(t, tc.conf, mem, 3)
			b := array.NewRecordBuilder(mem, testSchema)
			b.Field(0).(*array.Int64Builder).Append(99)
			b.Field(1).(*array.StringBuilder).Append(strings.Repeat("x", bigName))
			b.Field(2).AppendNull()
			b.Field(3).(*array.TimestampBuilder).Append(arrow.Timestamp(1_700_000_000_000_000))
			bigRec := b.NewRecordBatch()
			b.Release()
			big := encodeAll(t, enc, bigRec)[0]
			bigRec.Release()

			conf := tc.conf
			conf.MaxRecordBytes = limit
			dec, err := NewDecoder(conf, mem)
			if err != nil {
				t.Fatal(err)
			}
			msgs := [][]byte{good[0], big, tc.bad, good[1], big, good[2]}
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			start := time.Now()
			got, rejects, err := dec.Decode(msgs)
			took := time.Since(start)
			runtime.ReadMemStats(&after)
			t.Logf("a batch with two messages of %d bytes over a %d-byte limit: %v, %d bytes allocated", len(big), limit, took, after.TotalAlloc-before.TotalAlloc)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			defer got.Release()
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc >= uint64(len(big)) {
				t.Errorf("Decode allocated %d bytes, a message over the limit is %d: it was copied or decoded", alloc, len(big))
			}
			if !array.RecordEqual(got, want) {
				t.Errorf("decoded %d rows, want the %d small good ones", got.NumRows(), want.NumRows())
			}
			if len(rejects) != 3 {
				t.Fatalf("%d rejects, want 3", len(rejects))
			}
			for i, row := range []int{1, 2, 4} {
				r := rejects[i]
				tooLarge := errors.Is(r.Err, format.ErrRecordTooLarge)
				switch {
				case r.Row != row:
					t.Errorf("reject %d is message %d, want %d", i, r.Row, row)
				case row == 2 && (tooLarge || !bytes.Equal(r.Raw, tc.bad)):
					t.Errorf("the small bad message: raw %q, err %v", r.Raw, r.Err)
				case row != 2 && (!tooLarge || !strings.Contains(r.Err.Error(), "limit of 4096 bytes (max_record_bytes)")):
					t.Errorf("message %d: err %v, want record too large over the limit of 4096 bytes", row, r.Err)
				case row != 2 && !bytes.Equal(r.Raw, big[:RawPrefix]):
					t.Errorf("message %d: raw of %d bytes, want its first %d", row, len(r.Raw), RawPrefix)
				}
			}

			// A batch of nothing but such messages is an empty record.
			none, rejects, err := dec.Decode([][]byte{big, big})
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			defer none.Release()
			if none.NumRows() != 0 || len(rejects) != 2 || rejects[0].Row != 0 || rejects[1].Row != 1 {
				t.Errorf("%d rows and %d rejects, want 0 rows and messages 0 and 1 rejected", none.NumRows(), len(rejects))
			}
		})
	}
}

func TestMaxRecordBytesConfig(t *testing.T) {
	for _, n := range []int{-1, MaxRecordLimit + 1} {
		_, err := NewDecoder(Config{Name: JSON, Schema: testSchema, MaxRecordBytes: n}, checked(t))
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "max_record_bytes must be between 1 and") {
			t.Errorf("MaxRecordBytes %d: %v, want a configuration error", n, err)
		}
	}
}

// TestMaxRecordBytesAboveFormatDefault: a limit above format's default
// reaches the JSON Lines reader the JSON codec decodes with, so a message
// within it but over 64 MiB is a row, not a reject of the inner reader.
func TestMaxRecordBytesAboveFormatDefault(t *testing.T) {
	mem := checked(t)
	dec, err := NewDecoder(Config{Name: JSON, Schema: testSchema, MaxRecordBytes: format.DefaultMaxRecordBytes + 1024}, mem)
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte(`{"id": 1, "ts": "2024-01-01T00:00:00Z", "name": "` + strings.Repeat("x", format.DefaultMaxRecordBytes) + `"}`)
	rec, rejects, err := dec.Decode([][]byte{msg})
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	defer rec.Release()
	if rec.NumRows() != 1 || len(rejects) != 0 {
		why := ""
		if len(rejects) > 0 {
			why = rejects[0].Err.Error()
		}
		t.Errorf("%d rows, %d rejects (%s); want the message of %d bytes as a row", rec.NumRows(), len(rejects), why, len(msg))
	}
}
