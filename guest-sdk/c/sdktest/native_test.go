// Package sdktest_test tests the C SDK. native_test.go compiles its JSON
// reader, float formatter and UTF-8 decoder (dw_json.c, dw_float.c) for
// the host, with address and undefined-behaviour sanitizers when the
// compiler has them, and compares their answers with encoding/json, fmt
// and unicode/utf8 on tables, random inputs and fuzzed bytes; the harness
// is testdata/harness.c (Go refuses .c files beside .go files, hence the
// directory of its own). stage_test.go runs a whole-SDK test stage through
// the real host.
package sdktest_test

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/dataweaver/dataweaver/internal/testenv"
)

var (
	buildOnce sync.Once
	harness   string
	buildErr  error
)

// build compiles the harness once per test binary.
func build(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		cc := ""
		for _, name := range []string{"cc", "gcc", "clang"} {
			if p, err := exec.LookPath(name); err == nil {
				cc = p
				break
			}
		}
		if cc == "" {
			buildErr = fmt.Errorf("no C compiler for the host (cc, gcc or clang): install one, e.g. apt-get install -y gcc")
			return
		}
		dir, err := os.MkdirTemp("", "dw-c-native-")
		if err != nil {
			buildErr = err
			return
		}
		harness = filepath.Join(dir, "harness")
		args := []string{"-std=c11", "-O1", "-g", "-Wall", "-Wextra", "-Werror", "-I", "..", "-o", harness, "testdata/harness.c", "../dw_json.c", "../dw_float.c", "-lm"}
		sanitized := append([]string{"-fsanitize=address,undefined", "-fno-sanitize-recover=all"}, args...)
		if out, err := exec.Command(cc, sanitized...).CombinedOutput(); err != nil {
			// Some toolchains lack the sanitizer runtimes: the plain build
			// still checks the answers.
			if out2, err2 := exec.Command(cc, args...).CombinedOutput(); err2 != nil {
				buildErr = fmt.Errorf("%s %s: %v\n%s\n%s", cc, strings.Join(args, " "), err2, out, out2)
			}
		}
	})
	if buildErr != nil {
		testenv.Missing(t, "%v", buildErr)
	}
	return harness
}

// proc is a running harness answering one line per request.
type proc struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
}

func start(t testing.TB, mode string) *proc {
	t.Helper()
	cmd := exec.Command(build(t), mode)
	cmd.Env = append(os.Environ(), "ASAN_OPTIONS=detect_leaks=0") // strings live as long as an instance: not leaks
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return &proc{cmd, in, bufio.NewReaderSize(out, 1<<20)}
}

func (p *proc) close(t testing.TB) {
	t.Helper()
	_ = p.in.Close()
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("harness: %v", err)
	}
}

// ask sends one frame and reads the answer line.
func (p *proc) ask(t testing.TB, b []byte) string {
	t.Helper()
	if _, err := p.in.Write(binary.LittleEndian.AppendUint32(nil, uint32(len(b)))); err != nil {
		t.Fatal(err)
	}
	if _, err := p.in.Write(b); err != nil {
		t.Fatal(err)
	}
	line, err := p.out.ReadString('\n')
	if err != nil {
		t.Fatalf("harness died on %q: %v", b, err)
	}
	return strings.TrimSuffix(line, "\n")
}

func TestSelftest(t *testing.T) {
	cmd := exec.Command(build(t), "selftest")
	cmd.Env = append(os.Environ(), "ASAN_OPTIONS=detect_leaks=0")
	out, err := cmd.CombinedOutput()
	if err != nil || string(out) != "ok\n" {
		t.Fatalf("harness selftest: %v\n%s", err, out)
	}
}

// goCanon is the canonical form harness.c prints, computed by
// encoding/json: "invalid", "range", or the values in order with numbers
// as float64 bits and strings as hex.
func goCanon(data []byte) string {
	if !json.Valid(data) {
		return "invalid"
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var b strings.Builder
	if err := canonValue(dec, &b); err != nil {
		return "range"
	}
	return b.String()
}

func canonValue(dec *json.Decoder, b *strings.Builder) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch v := tok.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(v))
	case json.Number:
		f, err := strconv.ParseFloat(string(v), 64)
		if err != nil {
			return err
		}
		fmt.Fprintf(b, "n%016x", math.Float64bits(f))
	case string:
		fmt.Fprintf(b, "s%x", v)
	case json.Delim:
		b.WriteRune(rune(v))
		for i := 0; dec.More(); i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			if v == '{' {
				key, err := dec.Token()
				if err != nil {
					return err
				}
				fmt.Fprintf(b, "s%x:", key.(string))
			}
			if err := canonValue(dec, b); err != nil {
				return err
			}
		}
		end, err := dec.Token()
		if err != nil {
			return err
		}
		b.WriteRune(rune(end.(json.Delim)))
	}
	return nil
}

var jsonSeeds = []string{
	`{"abi":1,"stage":"stages[1].wasm","config":{"column":"amount","op":">=","value":0},"schema":[{"name":"id","type":"int64","nullable":false}]}`,
	`{"columns":["email","country"],"factor":1e-3,"x":[1,-0,0.5e10,1E+2,-1.5E-7]}`,
	`"\u00e9\ud83d\ude00\ud800\udc00\udbff\udfff\ud800x\udc00\u0000\"\\\/\b\f\n\r\t"`,
	"\"a\xffb\xc3\xa9\xe0\x80\x80\xed\xa0\x80\xf4\x90\x80\x80\"",
	`[1e400]`, `[-1e400]`, `[1e-400]`, `1.7976931348623157e308`, `1.7976931348623159e308`, `4.9e-324`, `2.4e-324`,
	` [ ] `, `{}`, `[[[[[]]]]]`, `{"a":{"b":{"c":[true,false,null]}}}`, `{"a":1,"a":2}`,
	`123456789012345678901234567890`, `0.1`, `-0.0`, `1E5`, `1e+5`,
	"", " ", "[", "]", "[1,]", "[,1]", "{\"a\"}", "{\"a\":}", "{a:1}", "01", "-01", "1.", ".5", "-", "1e", "1e+", "+1",
	"tru", "true false", "nul", "\"\\x\"", "\"\\u12\"", "\"\\u12g4\"", "\"a", "\"\x01\"", "\"\x7f\"", "[1 2]", "{} {}",
	"[]]", "nan", "NaN", "Infinity", "\xef\xbb\xbf{}", "\f{}", "{\"a\":1,}", "[\"a\"\"b\"]", "/* */ 1", "\"\t\"",
	strings.Repeat("[", 10000) + strings.Repeat("]", 10000),
	strings.Repeat("[", 10001) + strings.Repeat("]", 10001),
	strings.Repeat(`{"a":`, 10000) + "1" + strings.Repeat("}", 10000),
}

func TestJSON(t *testing.T) {
	p := start(t, "json")
	defer p.close(t)
	check := func(doc []byte) {
		t.Helper()
		if got, want := p.ask(t, doc), goCanon(doc); got != want {
			t.Errorf("document %q:\n C: %.200s\nGo: %.200s", doc, got, want)
		}
	}
	for _, s := range jsonSeeds {
		check([]byte(s))
	}
	// Mutations of the valid seeds: truncations and byte flips.
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		doc := []byte(jsonSeeds[r.IntN(20)])
		switch r.IntN(3) {
		case 0:
			doc = doc[:r.IntN(len(doc)+1)]
		case 1:
			if len(doc) > 0 {
				doc[r.IntN(len(doc))] = byte(r.IntN(256))
			}
		case 2:
			if len(doc) > 0 {
				doc[r.IntN(len(doc))] = `{}[]",:\0123456789eE.-+tfnul `[r.IntN(28)]
			}
		}
		check(doc)
	}
}

func FuzzJSON(f *testing.F) {
	for _, s := range jsonSeeds {
		f.Add([]byte(s))
	}
	// Skip (or fail under CI) here, for the whole target: a skip inside
	// once.Do would leave p nil for the next input, which then panics.
	build(f)
	var (
		once sync.Once
		p    *proc
	)
	f.Fuzz(func(t *testing.T, doc []byte) {
		once.Do(func() { p = start(t, "json") })
		if got, want := p.ask(t, doc), goCanon(doc); got != want {
			t.Errorf("document %q:\n C: %.200s\nGo: %.200s", doc, got, want)
		}
	})
}

// TestFormatFloat compares dw_format_float with Go's %v, which the Go
// transforms use in their reject messages.
func TestFormatFloat(t *testing.T) {
	var xs []float64
	for _, x := range []float64{0, math.Copysign(0, -1), 1, -1, 0.1, 0.2, 0.3, 1.0 / 3, 2.0 / 3, 100, 1e6, 123456, 1234567,
		1e21, 1e20, 1e22, 1e23, 9007199254740993, 5e-324, math.SmallestNonzeroFloat64, math.MaxFloat64, 2.2250738585072014e-308,
		2.225073858507201e-308, 0.0001, 0.00001, 1e-5, 9.999999999999999e-05, 999999.9999999999, 1e300, math.NaN(), math.Inf(1),
		math.Inf(-1), 0x1p63, 0x1p63 / 100, 5e-310, 1.7976931348623157e308 / 3} {
		xs = append(xs, x, -x)
	}
	for e := -1074; e <= 1023; e++ {
		x := math.Ldexp(1, e)
		xs = append(xs, x, math.Nextafter(x, 0), math.Nextafter(x, math.Inf(1)))
	}
	for e := -325; e <= 308; e++ {
		x, _ := strconv.ParseFloat(fmt.Sprintf("1e%d", e), 64)
		xs = append(xs, x, math.Nextafter(x, 0), math.Nextafter(x, math.Inf(1)))
	}
	r := rand.New(rand.NewPCG(3, 4))
	for range 500000 {
		xs = append(xs, math.Float64frombits(r.Uint64()))
	}
	for range 200000 {
		// Short decimals, whose shortest form is short.
		x, _ := strconv.ParseFloat(fmt.Sprintf("%de%d", r.IntN(100000), r.IntN(60)-30), 64)
		xs = append(xs, x)
	}
	var in bytes.Buffer
	for _, x := range xs {
		_ = binary.Write(&in, binary.LittleEndian, x)
	}
	cmd := exec.Command(build(t), "float")
	cmd.Env = append(os.Environ(), "ASAN_OPTIONS=detect_leaks=0")
	cmd.Stdin = &in
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("harness float: %v", err)
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if len(lines) != len(xs) {
		t.Fatalf("harness printed %d lines for %d values", len(lines), len(xs))
	}
	bad := 0
	for i, x := range xs {
		if want := fmt.Sprintf("%v", x); lines[i] != want {
			if bad++; bad <= 20 {
				t.Errorf("dw_format_float(%#x) = %s, Go says %s", math.Float64bits(x), lines[i], want)
			}
		}
	}
	if bad > 20 {
		t.Errorf("... %d mismatches in all", bad)
	}
}

// TestUTF8Len compares dw_utf8_len with utf8.DecodeRune's width at every
// offset of short random byte strings biased towards UTF-8 lead bytes.
func TestUTF8Len(t *testing.T) {
	p := start(t, "utf8")
	defer p.close(t)
	r := rand.New(rand.NewPCG(5, 6))
	alphabet := []byte{0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xe1, 0xec, 0xed, 0xee, 0xef, 0xf0, 0xf1, 0xf3, 0xf4, 0xf5, 0xff}
	for range 20000 {
		b := make([]byte, 1+r.IntN(8))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		var want strings.Builder
		for i := range b {
			_, n := utf8.DecodeRune(b[i:])
			want.WriteString(strconv.Itoa(n))
		}
		if got := p.ask(t, b); got != want.String() {
			t.Errorf("% x: C %s, Go %s", b, got, want.String())
		}
	}
}
