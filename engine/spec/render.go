package spec

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// WriteText prints the spec as `weave connectors describe` shows it: the
// name and kind, summary, description, every field (advanced ones last) with
// its type, whether it is required or its default, allowed values,
// description and examples, then the YAML examples.
func (s *Spec) WriteText(w io.Writer, kind string) {
	tw := &textWriter{w: w}
	tw.printf("%s (%s)\n", s.name, kind)
	if s.summary != "" {
		tw.printf("  %s\n", s.summary)
	}
	if s.description != "" {
		tw.printf("\n")
		tw.wrap("  ", strings.TrimSpace(s.description))
	}
	if s.scalar != "" {
		tw.printf("\n  May be written as a plain value, meaning {%s: value}.\n", s.scalar)
	}
	basic, advanced := splitAdvanced(s.fields)
	if len(s.fields) == 0 {
		tw.printf("\nFields: none\n")
	}
	if len(basic) > 0 {
		tw.printf("\nFields:\n")
		writeTextFields(tw, basic, "  ")
	}
	if len(advanced) > 0 {
		tw.printf("\nAdvanced fields:\n")
		writeTextFields(tw, advanced, "  ")
	}
	if len(s.examples) > 0 {
		tw.printf("\nExamples:\n")
		for i, ex := range s.examples {
			if i > 0 {
				tw.printf("\n")
			}
			if ex.Title != "" {
				tw.printf("  # %s\n", ex.Title)
			}
			for _, line := range strings.Split(strings.TrimRight(ex.YAML, "\n "), "\n") {
				tw.line("  ", line)
			}
		}
	}
}

func writeTextFields(tw *textWriter, fields []*Field, indent string) {
	for _, f := range fields {
		tw.printf("%s%s  %s\n", indent, f.name, fieldSummary(f))
		in := indent + "    "
		if f.description != "" {
			tw.wrap(in, f.description)
		}
		if len(f.enum) > 0 {
			tw.wrap(in, "One of: "+strings.Join(f.enum, ", "))
		}
		for _, ex := range f.examples {
			tw.line(in, "Example: "+ex)
		}
		if f.kind == KindObject && len(f.fields) > 0 {
			writeTextFields(tw, f.fields, in)
		}
	}
}

// fieldSummary is "string, required", `duration, default 100ms`, "int, optional".
func fieldSummary(f *Field) string {
	s := f.kind.String()
	switch {
	case f.defaultValue != nil:
		s += ", default " + FormatValue(f.defaultValue)
	case f.optional:
		s += ", optional"
	case f.kind == KindObject && !hasRequired(f.fields):
		// An object whose fields all have defaults may be left out.
		s += ", optional"
	default:
		s += ", required"
	}
	if f.secretOf != nil {
		s += ", secret"
	}
	return s
}

func hasRequired(fields []*Field) bool {
	for _, f := range fields {
		if f.defaultValue == nil && !f.optional && (f.kind != KindObject || hasRequired(f.fields)) {
			return true
		}
	}
	return false
}

func splitAdvanced(fields []*Field) (basic, advanced []*Field) {
	for _, f := range fields {
		if f.advanced {
			advanced = append(advanced, f)
		} else {
			basic = append(basic, f)
		}
	}
	return basic, advanced
}

// FormatValue renders a default value the way it is written in a pipeline
// file, so docs show `100ms` rather than 100000000 and strings that YAML
// would read as something else are quoted.
func FormatValue(v any) string {
	switch v := v.(type) {
	case string:
		if needsQuote(v) {
			return strconv.Quote(v)
		}
		return v
	case time.Duration:
		return v.String()
	case int64:
		// Byte sizes are the only int64 defaults; 1MiB reads better than 1048576.
		return formatByteSize(v)
	case []string:
		parts := make([]string, len(v))
		for i, s := range v {
			parts[i] = FormatValue(s)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case []KV:
		parts := make([]string, len(v))
		for i, kv := range v {
			parts[i] = FormatValue(kv.Key) + ": " + FormatValue(kv.Value)
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return fmt.Sprint(v)
}

func formatByteSize(n int64) string {
	units := []string{"KiB", "MiB", "GiB", "TiB"}
	unit := ""
	for _, u := range units {
		if n == 0 || n%1024 != 0 {
			break
		}
		n, unit = n/1024, u
	}
	return strconv.FormatInt(n, 10) + unit
}

func needsQuote(s string) bool {
	if s == "" || strings.TrimSpace(s) != s {
		return true
	}
	switch strings.ToLower(s) {
	case "true", "false", "yes", "no", "on", "off", "null", "~", "y", "n":
		return true
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return true
	}
	return strings.ContainsAny(s, ":#{}[],&*!|>'\"%@`\\\t\n") || strings.HasPrefix(s, "-") || strings.HasPrefix(s, "?")
}

// textWriter keeps WriteText free of error plumbing: an io.Writer error is
// sticky and ends the output, which is all a help printer can do about it.
type textWriter struct {
	w   io.Writer
	err error
}

func (t *textWriter) printf(format string, args ...any) {
	if t.err == nil {
		_, t.err = fmt.Fprintf(t.w, format, args...)
	}
}

// line prints text under indent, one output line per input line, so
// multi-line descriptions stay aligned.
func (t *textWriter) line(indent, text string) {
	for _, l := range strings.Split(text, "\n") {
		if strings.TrimSpace(l) == "" {
			t.printf("\n")
			continue
		}
		t.printf("%s%s\n", indent, l)
	}
}

// textWidth is where WriteText wraps prose: terminals are at least 80
// columns, and wrapping there keeps the indentation a terminal's own
// wrapping would lose.
const textWidth = 80

// wrap prints prose under indent, re-flowing each paragraph to textWidth.
// Lines within a paragraph are joined; blank lines separate paragraphs.
func (t *textWriter) wrap(indent, text string) {
	for i, para := range strings.Split(text, "\n\n") {
		if i > 0 {
			t.printf("\n")
		}
		col := 0
		for _, word := range strings.Fields(para) {
			n := utf8.RuneCountInString(word)
			switch {
			case col == 0:
				t.printf("%s%s", indent, word)
				col = len(indent) + n
			case col+1+n > textWidth:
				t.printf("\n%s%s", indent, word)
				col = len(indent) + n
			default:
				t.printf(" %s", word)
				col += 1 + n
			}
		}
		if col > 0 {
			t.printf("\n")
		}
	}
}

// WriteMarkdown prints the spec as a section of a Markdown reference: a
// level-3 heading (it sits under a "## Sources" / "## Stages" / "## Sinks"
// heading), summary, description, a table of fields with nested object
// fields as dotted names, and the YAML examples as fenced blocks.
func (s *Spec) WriteMarkdown(w io.Writer, kind string) {
	tw := &textWriter{w: w}
	tw.printf("### %s\n\n", s.name)
	tw.printf("*%s*", kind)
	if s.summary != "" {
		tw.printf(" — %s", mdText(s.summary))
	}
	tw.printf("\n\n")
	if d := strings.TrimSpace(s.description); d != "" {
		tw.printf("%s\n\n", mdText(d))
	}
	if s.scalar != "" {
		tw.printf("May be written as a plain value: `%s: VALUE` means `%s: {%s: VALUE}`.\n\n", s.name, s.name, s.scalar)
	}
	if len(s.fields) == 0 {
		tw.printf("Takes no fields.\n\n")
	} else {
		tw.printf("| Field | Type | Default | Description |\n")
		tw.printf("| --- | --- | --- | --- |\n")
		writeMarkdownFields(tw, s.fields, "")
		tw.printf("\n")
	}
	for _, ex := range s.examples {
		if ex.Title != "" {
			tw.printf("**%s**\n\n", mdEscape(ex.Title))
		}
		tw.printf("```yaml\n%s\n```\n\n", strings.TrimRight(ex.YAML, "\n "))
	}
}

func writeMarkdownFields(tw *textWriter, fields []*Field, prefix string) {
	basic, advanced := splitAdvanced(fields)
	for _, f := range append(basic, advanced...) {
		name := prefix + f.name
		var def string
		switch {
		case f.defaultValue != nil:
			def = mdCode(FormatValue(f.defaultValue))
		case f.optional, f.kind == KindObject && !hasRequired(f.fields):
			def = "optional"
		default:
			def = "**required**"
		}
		var desc []string
		if f.description != "" {
			desc = append(desc, mdEscape(f.description))
		}
		if len(f.enum) > 0 {
			desc = append(desc, "One of: `"+strings.Join(f.enum, "`, `")+"`.")
		}
		for _, ex := range f.examples {
			desc = append(desc, "Example: "+mdCode(ex)+".")
		}
		if f.secretOf != nil {
			desc = append(desc, "*Secret:* give it as `${ENV_VAR}`; weave never prints it.")
		}
		if f.advanced {
			desc = append(desc, "*Advanced.*")
		}
		tw.printf("| `%s` | %s | %s | %s |\n", name, f.kind, def, strings.Join(desc, " "))
		if f.kind == KindObject {
			writeMarkdownFields(tw, f.fields, name+".")
		}
	}
}

// mdText escapes prose for Markdown: descriptions are plain text, so a
// glob's "**" or a type's "list<type>" must not turn into emphasis or an
// HTML tag. Spans in backticks are code already and stay as written.
func mdText(s string) string {
	parts := strings.Split(s, "`")
	if len(parts)%2 == 0 {
		// An unpaired backtick is a literal one.
		return mdPlain(s)
	}
	for i := 0; i < len(parts); i += 2 {
		parts[i] = mdPlain(parts[i])
	}
	return strings.Join(parts, "`")
}

var mdReplacer = strings.NewReplacer(`\`, `\\`, "*", `\*`, "_", `\_`, "<", "&lt;", ">", "&gt;", "`", "\\`")

func mdPlain(s string) string { return mdReplacer.Replace(s) }

// mdEscape keeps free text inside one table cell: a pipe would end the cell
// and a newline the row.
func mdEscape(s string) string {
	s = strings.ReplaceAll(mdText(s), "|", `\|`)
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
}

// mdCode is a code span for a table cell; only a pipe needs escaping there.
func mdCode(s string) string {
	s = strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
	return "`" + strings.ReplaceAll(s, "|", `\|`) + "`"
}
