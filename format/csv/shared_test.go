package csv

import (
	"testing"

	"github.com/dataweaver/dataweaver/format/internal/formattest"
)

// csvTypes are the testrecords columns CSV round-trips; the rest (fixed-size
// binary, date64, time, duration, nested, map, dictionary) are written as
// text but not read back as their type.
var csvTypes = []string{"bool", "i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64", "f32", "f64",
	"utf8", "large_utf8", "binary", "date32", "ts_s", "ts_ms_utc", "ts_us_paris", "ts_ns", "dec"}

// TestRoundTripSharedRecords runs the formats' common test columns through
// the writer and back, batch for batch.
func TestRoundTripSharedRecords(t *testing.T) {
	formattest.RoundTripShared(t, csvFormat, csvTypes)
}
