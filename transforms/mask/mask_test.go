package main

import (
	"strings"
	"testing"
)

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

func TestLastAt(t *testing.T) {
	for _, s := range []string{"", "@", "a@b", "abcdefgh@", "@abcdefgh", "a@bcdefghijklmnopq", "user12@example3.com",
		"A@@@@@@@@@@@@@@@@A", "xxxxxxxxxxxxxxxxxxx", "é@ü@ééééééééé", "@A@A@A@A@A@A@A@A@A@A"} {
		if got, want := lastAt(s), strings.LastIndexByte(s, '@'); got != want {
			t.Errorf("lastAt(%q) = %d, want %d", s, got, want)
		}
	}
}
