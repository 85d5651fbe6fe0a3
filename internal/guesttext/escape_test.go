package guesttext

import "testing"

func TestEscape(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain text is unchanged", `Édith: "a\b" 'ü' 10%`, `Édith: "a\b" 'ü' 10%`},
		{"C0", "a\x00b\tc\nd\re\x1b[31m", `a\x00b\tc\nd\re\x1b[31m`},
		{"DEL", "a\x7fb", `a\x7fb`},
		{"C1 (CSI)", "a\u009b31m", `a\u009b31m`},
		{"bidi override", "abc\u202edcba", `abc\u202edcba`},
		{"invalid UTF-8", "a\xffb\xc3", `a\xffb\xc3`},
		{"OSC title", "\x1b]0;pwned\x07\x1b[31m\u009b1m", `\x1b]0;pwned\a\x1b[31m\u009b1m`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Escape(tc.in)
			if got != tc.want {
				t.Errorf("Escape(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if again := Escape(got); again != got {
				t.Errorf("escaping twice gives %q, want %q", again, got)
			}
		})
	}
}
