package main

import "testing"

func TestMask(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"email", "alice@example.com", "a***@example.com"},
		{"not an email", "Alice", "A***"},
		{"multibyte first char", "Édith@mail.fr", "É***@mail.fr"},
		{"last @ wins", "a@b@c.org", "a***@c.org"},
		{"leading @", "@handle", "@***"},
		{"empty", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Mask(tc.in); got != tc.want {
				t.Errorf("Mask(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
