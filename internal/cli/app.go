package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"

	"github.com/apache/arrow-go/v18/arrow/memory"
	ucli "github.com/urfave/cli/v2"

	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/internal/redact"
)

// Options connect Main to its surroundings. The zero value means the
// process's own: the default environment, os.Stdout/os.Stderr, os.LookupEnv
// and SIGINT/SIGTERM.
type Options struct {
	Env            *engine.Environment
	Stdout, Stderr io.Writer
	// Lookup reads ${VAR} values for pipeline files.
	Lookup func(string) (string, bool)
	// Signals, when set, replaces SIGINT/SIGTERM (tests send on it).
	Signals <-chan os.Signal
	// Terminal reports whether Stderr is a terminal of the given width, for
	// the progress line; nil means "not a terminal".
	Terminal func() (ok bool, width func() int)
	// Mem allocates the pipeline's Arrow memory; nil means the Go allocator.
	Mem memory.Allocator
	// Runner runs the pipelines of weave run and weave serve; nil means
	// engine.Local, in this process.
	Runner engine.Runner
	// Version is set by the linker in release builds; empty means "read
	// it from the build info".
	Version string
}

// usageError is a mistake on the command line: exit code 2, with a hint
// to read the help.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// Main runs weave with args (args[0] is the program name) and returns the
// process exit code.
func Main(args []string, opts Options) int {
	if opts.Env == nil {
		opts.Env = engine.DefaultEnvironment()
	}
	if opts.Runner == nil {
		opts.Runner = engine.Local{}
	}
	if opts.Stdout == nil {
		opts.Stdout = os.Stdout
	}
	if opts.Stderr == nil {
		opts.Stderr = os.Stderr
	}
	if opts.Lookup == nil {
		opts.Lookup = os.LookupEnv
	}
	if opts.Terminal == nil {
		opts.Terminal = func() (bool, func() int) { return false, nil }
	}
	// Everything weave prints passes through the secrets' writers, so a
	// password a pipeline file was given never reaches a log or terminal
	// (config.Options.Secret fills the set as files are parsed).
	secrets := &redact.Set{}
	opts.Stdout, opts.Stderr = secrets.Writer(opts.Stdout), secrets.Writer(opts.Stderr)
	w := &weave{opts: opts, stderr: &switchWriter{w: opts.Stderr}, secrets: secrets}
	w.logger = slog.New(slog.NewTextHandler(w.stderr, nil))
	app := w.app()
	if len(args) == 0 {
		args = []string{"weave"}
	}
	err := app.RunContext(context.Background(), hoistFlags(app, args))
	return w.report(err)
}

// weave is one invocation's state, shared by the commands.
type weave struct {
	opts   Options
	stderr *switchWriter
	logger *slog.Logger
	// jsonLogs is set by --log-format json: the run summary is JSON too.
	jsonLogs bool
	// secrets are the pipeline files' secret values, redacted from all
	// output (and from what serve's HTTP endpoints answer).
	secrets *redact.Set
}

func (w *weave) app() *ucli.App {
	app := &ucli.App{
		Name:      "weave",
		Usage:     "move Arrow record batches from a source through stages to sinks",
		UsageText: "weave [global options] command [options] [arguments...]",
		Writer:    w.opts.Stdout,
		ErrWriter: w.opts.Stderr,
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "log-level", Value: "info", Usage: "debug, info, warn or error (progress records are info; the run summary is written at every level)"},
			&ucli.StringFlag{Name: "log-format", Value: "text", Usage: "text or json"},
		},
		Before:   w.setupLogging,
		Commands: w.commands(),
		Suggest:  true,
		// Answers the completion scripts' --generate-bash-completion.
		EnableBashCompletion: true,
		// --set values are YAML and may hold commas ("[id, email]"); v2
		// would otherwise split them into several values.
		DisableSliceFlagSeparator: true,
		HideVersion:               true,
		OnUsageError:              onUsageError,
		ExitErrHandler:            func(*ucli.Context, error) {}, // Main owns the exit code
		Action: func(c *ucli.Context) error {
			if c.NArg() > 0 {
				return usagef("unknown command %q", c.Args().First())
			}
			_ = ucli.ShowAppHelp(c)
			return usagef("no command given")
		},
	}
	return app
}

func (w *weave) commands() []*ucli.Command {
	cmds := []*ucli.Command{w.runCommand(), w.serveCommand(), w.validateCommand(), w.positionsCommand(), w.buildCommand(), w.newCommand(), w.testCommand(), w.inspectCommand(), w.connectorsCommand(), w.versionCommand(), w.completionCommand()}
	var all func([]*ucli.Command)
	all = func(cs []*ucli.Command) {
		for _, c := range cs {
			c.OnUsageError = onUsageError
			all(c.Subcommands)
		}
	}
	all(cmds)
	return cmds
}

func onUsageError(_ *ucli.Context, err error, _ bool) error { return usageError{err} }

func (w *weave) setupLogging(c *ucli.Context) error {
	var level slog.Level
	switch l := c.String("log-level"); l {
	case "debug", "info", "warn", "error":
		_ = level.UnmarshalText([]byte(l))
	default:
		return usagef("--log-level %q: want debug, info, warn or error", l)
	}
	ho := &slog.HandlerOptions{Level: level}
	switch f := c.String("log-format"); f {
	case "text":
		w.logger = slog.New(slog.NewTextHandler(w.stderr, ho))
	case "json":
		w.logger = slog.New(slog.NewJSONHandler(w.stderr, ho))
		w.jsonLogs = true
	default:
		return usagef("--log-format %q: want text or json", f)
	}
	return nil
}

// report prints err and returns the exit code it maps to.
func (w *weave) report(err error) int {
	if err == nil {
		return 0
	}
	code := ExitCode(err)
	if w.jsonLogs {
		// Under --log-format json every line of stderr is a JSON object,
		// the last error included, so a log collector needs no second parser.
		w.logger.Error(strings.TrimRight(err.Error(), "\n"), "exit_code", code)
		return code
	}
	for _, line := range strings.Split(strings.TrimRight(err.Error(), "\n"), "\n") {
		fmt.Fprintf(w.opts.Stderr, "weave: %s\n", line)
	}
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintln(w.opts.Stderr, "weave: run 'weave --help' for usage")
	}
	return code
}

// ExitCode maps an error from a command to the process exit code.
func ExitCode(err error) int {
	var ue usageError
	var ae *abortError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ae):
		return ae.ExitCode()
	case errors.Is(err, engine.ErrRuntime):
		// A schema error in the middle of a run (a later file of a glob)
		// is a runtime failure: 2 promises re-running will not help, and
		// a script must not take a run that moved rows for a bad file.
		return 1
	case errors.As(err, &ue), errors.Is(err, engine.ErrInvalidConfig), errors.Is(err, engine.ErrSchema):
		return 2
	}
	return 1
}

// hoistFlags moves flags written after a command's positional arguments in
// front of them, so `weave run p.yaml --set batch.rows=10` works: urfave/cli
// v2, like package flag, stops parsing flags at the first positional
// argument. Everything after "--" stays as it is.
func hoistFlags(app *ucli.App, args []string) []string {
	if args[len(args)-1] == completionFlag {
		// urfave/cli looks for it last, and the words before it are the
		// command line being completed, flags after FILE and all.
		return args
	}
	out := []string{args[0]}
	flags, cmds := app.Flags, app.Commands
	i := 1
	found := false
	// Global flags and the command path: leave their order alone.
	for i < len(args) {
		a := args[i]
		if a == "--" {
			return args
		}
		if isFlag(a) {
			out = append(out, a)
			i++
			if takesValue(flags, a) && i < len(args) {
				out = append(out, args[i])
				i++
			}
			continue
		}
		cmd := findCommand(cmds, a)
		if cmd == nil {
			break
		}
		found = true
		out = append(out, a)
		i++
		flags, cmds = cmd.Flags, cmd.Subcommands
	}
	if !found {
		return args
	}
	var positional []string
	for i < len(args) {
		a := args[i]
		if a == "--" {
			positional = append(positional, args[i:]...)
			break
		}
		if isFlag(a) {
			out = append(out, a)
			i++
			if takesValue(flags, a) && i < len(args) {
				out = append(out, args[i])
				i++
			}
			continue
		}
		positional = append(positional, a)
		i++
	}
	return append(out, positional...)
}

func isFlag(a string) bool { return len(a) > 1 && a[0] == '-' }

// takesValue reports whether flag a consumes the next argument.
func takesValue(flags []ucli.Flag, a string) bool {
	name := strings.TrimLeft(a, "-")
	if strings.Contains(name, "=") {
		return false
	}
	for _, f := range flags {
		for _, n := range f.Names() {
			if n == name {
				_, isBool := f.(*ucli.BoolFlag)
				return !isBool
			}
		}
	}
	return false
}

func findCommand(cmds []*ucli.Command, name string) *ucli.Command {
	for _, c := range cmds {
		if c.HasName(name) {
			return c
		}
	}
	return nil
}

// switchWriter lets the progress meter take over stderr for log records
// while it is on screen, without rebuilding the logger.
type switchWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *switchWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	w := s.w
	s.mu.Unlock()
	return w.Write(p)
}

func (s *switchWriter) set(w io.Writer) {
	s.mu.Lock()
	s.w = w
	s.mu.Unlock()
}
