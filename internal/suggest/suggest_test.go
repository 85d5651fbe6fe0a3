package suggest

import "testing"

func TestDistance(t *testing.T) {
	tests := []struct {
		name string
		a, b string
		want int
	}{
		{"both empty", "", "", 0},
		{"empty a", "", "abc", 3},
		{"empty b", "abc", "", 3},
		{"equal", "counter", "counter", 0},
		{"one substitution", "int65", "int64", 1},
		{"one insertion", "pas", "pass", 1},
		{"one deletion", "on_eror", "on_error", 1},
		{"transposition is two edits", "ab", "ba", 2},
		{"kitten", "kitten", "sitting", 3},
		{"case matters", "File", "file", 1},
		{"disjoint", "abc", "xyz", 3},
		{"prefix", "fiel", "file", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Distance(tt.a, tt.b); got != tt.want {
				t.Errorf("Distance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
			}
			// The distance is symmetric; checking it catches an
			// implementation that swaps the roles of insert and delete.
			if got := Distance(tt.b, tt.a); got != tt.want {
				t.Errorf("Distance(%q, %q) = %d, want %d", tt.b, tt.a, got, tt.want)
			}
		})
	}
}

func TestClosest(t *testing.T) {
	tests := []struct {
		name       string
		in         string
		candidates []string
		want       string
	}{
		{"no candidates", "x", nil, ""},
		{"exact match", "file", []string{"counter", "file"}, "file"},
		{"typo", "countr", []string{"file", "counter"}, "counter"},
		{"nearest wins", "int65", []string{"int8", "int64"}, "int64"},
		{"two edits still a typo", "fiel", []string{"file"}, "file"},
		{"three edits is not", "abc", []string{"xyz"}, ""},
		{"tie keeps the first", "cat", []string{"bat", "hat"}, "bat"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Closest(tt.in, tt.candidates); got != tt.want {
				t.Errorf("Closest(%q, %q) = %q, want %q", tt.in, tt.candidates, got, tt.want)
			}
		})
	}
}
