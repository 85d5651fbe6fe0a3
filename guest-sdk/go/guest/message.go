package guest

import "strconv"

// The SDK builds its messages by concatenation, not with fmt: fmt (with
// reflect and os behind it) would be linked into every guest (json.go).

// quote is a name in double quotes, as %q prints a plain name
// (strconv.Quote would link its printable-rune tables into every guest).
func quote(s string) string { return `"` + s + `"` }

// panicMessage is what fmt's %v prints for a recovered panic value of the
// kinds a stage panics with; other values are named by kind only.
func panicMessage(r any) string {
	switch v := r.(type) {
	case error:
		return v.Error()
	case interface{ String() string }:
		return v.String()
	case string:
		return v
	case int:
		return strconv.Itoa(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case int32:
		return strconv.FormatInt(int64(v), 10)
	case uint64:
		return strconv.FormatUint(v, 10)
	case uint32:
		return strconv.FormatUint(uint64(v), 10)
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	}
	return "(a panic value that is not an error, a string or a number)"
}
