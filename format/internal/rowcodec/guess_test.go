package rowcodec

import "testing"

// TestGuessType pins the inference lattice CSV and JSONL share: numbers
// widen without losing a digit (never to float64 for an integer a double
// cannot hold), anything else mixed is utf8.
func TestGuessType(t *testing.T) {
	tests := []struct {
		name   string
		values []string // recorded as Integer, then Timestamp, else by hand
		bools  bool
		floats bool
		strs   bool
		want   string
	}{
		{name: "nothing seen (only nulls)", want: "utf8"},
		{name: "ints", values: []string{"1", "-2"}, want: "int64"},
		{name: "big unsigned", values: []string{"1", "18446744073709551615"}, want: "uint64"},
		{name: "big unsigned and negative", values: []string{"-1", "18446744073709551615"}, want: "decimal(38, 0)"},
		{name: "beyond uint64", values: []string{"1", "18446744073709551616"}, want: "decimal(38, 0)"},
		{name: "beyond int64, negative", values: []string{"-9223372036854775809"}, want: "decimal(38, 0)"},
		{name: "38 digits", values: []string{"-99999999999999999999999999999999999999"}, want: "decimal(38, 0)"},
		{name: "38 digits after leading zeros", values: []string{"+00099999999999999999999999999999999999999"}, want: "decimal(38, 0)"},
		{name: "39 digits", values: []string{"1", "100000000000000000000000000000000000000"}, want: "utf8"},
		{name: "ints and floats", values: []string{"1", "-9007199254740992"}, floats: true, want: "float64"},
		{name: "exact double above 2^53 and floats", values: []string{"1152921504606846976"}, floats: true, want: "float64"},
		{name: "2^53+1 and floats", values: []string{"9007199254740993"}, floats: true, want: "utf8"},
		{name: "max int64 and floats", values: []string{"9223372036854775807"}, floats: true, want: "utf8"},
		{name: "big unsigned and floats", values: []string{"18446744073709551615"}, floats: true, want: "utf8"},
		{name: "beyond uint64 and floats", values: []string{"18446744073709551616"}, floats: true, want: "utf8"},
		{name: "timestamps", values: []string{"2024-03-01T10:00:00Z"}, want: "timestamp[us, tz=UTC]"},
		{name: "nanosecond timestamps", values: []string{"2024-03-01T10:00:00Z", "2024-03-01T10:00:00.123456789Z"}, want: "timestamp[ns, tz=UTC]"},
		{name: "bools", bools: true, want: "bool"},
		{name: "bools and ints", values: []string{"1"}, bools: true, want: "utf8"},
		{name: "timestamps and ints", values: []string{"1", "2024-03-01T10:00:00Z"}, want: "utf8"},
		{name: "strings", strs: true, want: "utf8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var g Guess
			for _, v := range tt.values {
				if !g.Integer([]byte(v)) && !g.Timestamp([]byte(v)) {
					t.Fatalf("%q is neither an integer nor a timestamp", v)
				}
			}
			g.Bools, g.Floats, g.Strs = g.Bools || tt.bools, g.Floats || tt.floats, g.Strs || tt.strs
			if got := g.Type().String(); got != tt.want {
				t.Errorf("Type() = %s, want %s", got, tt.want)
			}
		})
	}
}
