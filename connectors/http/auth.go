package http

import (
	"crypto/sha256"
	"crypto/subtle"
	"strings"
)

// bearerOK reports whether an Authorization header carries the token whose
// SHA-256 is want. Comparing digests makes the comparison constant-time in
// the token's length too, not only in its bytes.
func bearerOK(header string, want [32]byte) bool {
	scheme, cred, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	got := sha256.Sum256([]byte(strings.TrimSpace(cred)))
	return subtle.ConstantTimeCompare(got[:], want[:]) == 1
}

// bearer is the Authorization header value for token.
func bearer(token string) string { return "Bearer " + token }
