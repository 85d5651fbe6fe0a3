// Package suggest finds the name a user probably meant, for the "did you
// mean" hints of pipeline files, connector specs, column types and the CLI.
//
// One copy serves them all so every hint uses the same cut-off: a name more
// than two edits away is more likely a different word than a typo, and
// listing the known names helps more there than a far-fetched guess.
package suggest

// MaxDistance is the largest edit distance Closest still calls a typo.
const MaxDistance = 2

// Closest returns the candidate nearest to name within MaxDistance edits,
// or "" if there is none. On a tie the earlier candidate wins, so callers
// control the preference by the order they pass.
func Closest(name string, candidates []string) string {
	best, bestD := "", MaxDistance+1
	for _, c := range candidates {
		if d := Distance(name, c); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// Distance is the Levenshtein distance between a and b in bytes: the
// fewest single-byte insertions, deletions and substitutions that turn
// one into the other. Names here are ASCII, so bytes are characters.
func Distance(a, b string) int {
	// Two rows of the dynamic-programming table are enough: each row
	// depends only on the one before it.
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
