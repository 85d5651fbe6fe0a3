package jsonl

import (
	"testing"

	"github.com/dataweaver/dataweaver/format/internal/formattest"
)

// jsonlTypes are the testrecords columns JSONL round-trips. Floats are left
// out because their NaN and infinities are written as null (TestRoundTrip
// covers every finite edge value); fixed-size binary, date64, time,
// duration, map and dictionary are written through arrow's JSON values but
// not read back as their type.
var jsonlTypes = []string{"bool", "i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64",
	"utf8", "large_utf8", "binary", "date32", "ts_s", "ts_ms_utc", "ts_us_paris", "ts_ns", "dec",
	"list", "list_str", "struct"}

// TestRoundTripSharedRecords runs the formats' common test columns through
// the writer and back, batch for batch.
func TestRoundTripSharedRecords(t *testing.T) {
	formattest.RoundTripShared(t, jsonlFormat, jsonlTypes)
}
