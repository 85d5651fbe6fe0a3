package cli

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	ucli "github.com/urfave/cli/v2"
	"gopkg.in/yaml.v3"

	"github.com/dataweaver/dataweaver/internal/telemetry"
	"github.com/dataweaver/dataweaver/pipetest"
)

func (w *weave) serveCommand() *ucli.Command {
	return &ucli.Command{
		Name:      "serve",
		Usage:     "run many pipeline files in one process, each isolated, restarted on failure",
		ArgsUsage: "DIR|FILE...",
		Description: "Runs every pipeline given (a directory means its *.yaml and *.yml files that have a " +
			"source key, test files " + pipetest.Suffix + " aside), each with its own engine and its positions " +
			"kept as weave run keeps them. A pipeline that fails is logged and started again after a pause that " +
			"doubles from --backoff up to --backoff-max (back to --backoff after a run that lasted --backoff-max); " +
			"it never stops the others. A pipeline whose input ends is finished and not started again; one whose " +
			"file is invalid is failed until its file changes. Each run that ends logs a run summary record.\n\n" +
			"The files are looked at every --watch-every, and on SIGHUP: a pipeline whose file changed is drained " +
			"(its position saved, as on Ctrl-C) and started again from the new file; new files start and removed " +
			"ones are drained and stop. A changed file that does not load is reported and its pipeline goes on " +
			"from the previous one. The first SIGINT (SIGTERM) drains every pipeline and exits with 130 (143); " +
			"the second aborts.\n\n" +
			"--http also serves GET /pipelines and /pipelines/NAME: name, file, state, restarts, reloads, errors " +
			"and rows. With --http-control, POST /pipelines/NAME/stop and /start stop (drain) and start one " +
			"pipeline; they need the header Authorization: Bearer TOKEN, the token read from --http-token-file " +
			"or " + tokenEnv + ".",
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "http", Usage: "serve /metrics, /healthz, /readyz and /pipelines on `ADDR` (host:port; :0 picks a free port)"},
			&ucli.DurationFlag{Name: "backoff", Value: time.Second, Usage: "pause before the first restart of a failed pipeline"},
			&ucli.DurationFlag{Name: "backoff-max", Value: time.Minute, Usage: "longest pause between restarts"},
			&ucli.DurationFlag{Name: "watch-every", Value: defaultWatchEvery,
				Usage: "look for changed, new and removed pipeline files this often (0: only on SIGHUP)"},
			&ucli.BoolFlag{Name: "http-control", Usage: "with --http, allow POST /pipelines/NAME/stop and /start, with a bearer token"},
			&ucli.StringFlag{Name: "http-token-file", Usage: "read the --http-control token from `FILE` (default: the " + tokenEnv + " variable)"},
		},
		Action: w.serve,
	}
}

func (w *weave) serve(c *ucli.Context) error {
	args := c.Args().Slice()
	if len(args) == 0 {
		return usagef("serve needs a directory or pipeline files")
	}
	first, most := c.Duration("backoff"), c.Duration("backoff-max")
	if first <= 0 || most < first {
		return usagef("--backoff %s --backoff-max %s: want 0 < backoff <= backoff-max", first, most)
	}
	every := c.Duration("watch-every")
	if every < 0 {
		return usagef("--watch-every %s: want a duration such as 1s, or 0 to reload only on SIGHUP", every)
	}
	addr, controlOn := c.String("http"), c.Bool("http-control")
	if controlOn && addr == "" {
		return usagef("--http-control needs --http ADDR")
	}
	if !controlOn && c.String("http-token-file") != "" {
		return usagef("--http-token-file is for --http-control, which is not given")
	}
	files, err := findPipelines(args, nil)
	if err != nil {
		return usageError{err}
	}
	if !slices.ContainsFunc(files, func(f pipelineFile) bool { return !f.other }) {
		return usagef("no pipeline files in %s", strings.Join(args, ", "))
	}
	ctx, cancel := context.WithCancel(c.Context)
	defer cancel()
	sv := &supervisor{w: w, ctx: ctx, backoff: first, backoffMax: most, units: map[string]*unit{}}
	if addr != "" {
		ctl := &control{sv: sv}
		if controlOn {
			tok, err := w.controlToken(c.String("http-token-file"))
			if err != nil {
				return usageError{err}
			}
			sum := sha256.Sum256([]byte(tok))
			ctl.token = sum[:]
			w.secrets.Add(tok) // should it ever be quoted, it is redacted

		}
		sv.col = telemetry.NewCollector()
		sv.col.Supervise(sv.supervised)
		srv, err := telemetry.Listen(addr, sv.col, w.logger, ctl.routes()...)
		if err != nil {
			return err
		}
		defer func() {
			if err := srv.Close(); err != nil {
				w.logger.Warn("stopping the metrics server", "err", err)
			}
		}()
		w.logger.Info("serving metrics and health", "addr", srv.Addr(),
			"pipelines", "http://"+srv.Addr()+"/pipelines")
	}
	sv.apply(files)
	watchCtx, stopWatch := context.WithCancel(ctx)
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		if every > 0 {
			sv.watch(watchCtx, args, every, files)
		}
	}()
	defer func() { stopWatch(); <-watched }()

	sigs, release := w.serveSignals()
	defer release()
	for {
		sig := <-sigs
		if sig == syscall.SIGHUP {
			// reload does not wait for a drain (the units do), so the
			// loop stays free for a SIGTERM that follows.
			files, err := findPipelines(args, nil)
			if err != nil {
				w.logger.Error("reload: keeping the pipelines as they are", "err", err)
				continue
			}
			sv.reload(files)
			continue
		}
		stopWatch()
		return w.serveShutdown(sv, sig, sigs, release, cancel)
	}
}

// serveShutdown drains every pipeline after the first SIGINT/SIGTERM and
// cancels them all on a second one.
func (w *weave) serveShutdown(sv *supervisor, first os.Signal, sigs <-chan os.Signal, release, cancel func()) error {
	w.logger.Warn("draining every pipeline; press Ctrl-C again to abort", "signal", first.String())
	done := make(chan struct{})
	go func() {
		sv.stopAll()
		close(done)
	}()
	for {
		select {
		case <-done:
			return &abortError{sig: first, err: errors.New("stopped: every pipeline drained and saved its position; run again to resume"), drained: true}
		case sig := <-sigs:
			if sig == syscall.SIGHUP {
				continue // no reload while stopping
			}
			release()
			w.logger.Warn("aborting; a third signal kills weave without cleaning up", "signal", sig.String())
			cancel()
			<-done
			return &abortError{sig: sig, err: errors.New("every pipeline cancelled")}
		}
	}
}

// serveSignals listens for SIGINT, SIGTERM and SIGHUP (or reads
// Options.Signals, where a test sends all three). release lets SIGINT and
// SIGTERM kill the process again.
func (w *weave) serveSignals() (<-chan os.Signal, func()) {
	if w.opts.Signals != nil {
		return w.opts.Signals, func() {}
	}
	ch := make(chan os.Signal, 4)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	var once sync.Once
	return ch, func() { once.Do(func() { signal.Stop(ch) }) }
}

// pipelineFile is a file to run and the hash of what it held when read.
type pipelineFile struct {
	path string
	hash [sha256.Size]byte
	// other marks YAML in a served directory without a source key: not
	// run, but a served pipeline whose file turns into this (its source
	// cut out mid-edit) is a broken edit, not a removal.
	other bool
}

// findPipelines expands args into pipeline files: a file is taken as it
// is, a directory gives its *.yaml and *.yml files, test files aside;
// those without a top-level source key (not a pipeline) are marked other.
// Each file is read once, for its hash: a later reload compares hashes to
// find what changed.
//
// kinds, when not nil, remembers which contents are pipelines, by hash: a
// watch looking every second decodes each file's YAML once, not at every
// look.
func findPipelines(args []string, kinds map[[sha256.Size]byte]bool) ([]pipelineFile, error) {
	var out []pipelineFile
	seen := map[string]bool{}
	add := func(path string, onlyPipelines bool) error {
		abs, err := filepath.Abs(path)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if seen[abs] {
			return nil
		}
		data, err := os.ReadFile(abs)
		if err != nil {
			return fmt.Errorf("reading pipeline file: %w", err)
		}
		seen[abs] = true
		f := pipelineFile{path: abs, hash: sha256.Sum256(data)}
		if onlyPipelines {
			known, ok := kinds[f.hash]
			if !ok {
				known = isPipeline(data)
				if kinds != nil {
					if len(kinds) >= maxKinds {
						clear(kinds) // old contents; the files' current ones come back
					}
					kinds[f.hash] = known
				}
			}
			f.other = !known
		}
		out = append(out, f)
		return nil
	}
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return nil, fmt.Errorf("serve: %w", err)
		}
		if !st.IsDir() {
			if err := add(a, false); err != nil {
				return nil, err
			}
			continue
		}
		entries, err := os.ReadDir(a)
		if err != nil {
			return nil, fmt.Errorf("serve: %w", err)
		}
		for _, e := range entries {
			n := e.Name()
			if e.IsDir() || strings.HasSuffix(n, pipetest.Suffix) || (filepath.Ext(n) != ".yaml" && filepath.Ext(n) != ".yml") {
				continue
			}
			if err := add(filepath.Join(a, n), true); err != nil {
				return nil, err
			}
		}
	}
	slices.SortFunc(out, func(a, b pipelineFile) int { return strings.Compare(a.path, b.path) })
	return out, nil
}

// maxKinds bounds findPipelines' memory of contents.
const maxKinds = 4096

// isPipeline tells a pipeline file from other YAML in the same directory
// (a test file under another name, a CI config): it has a source key. A
// file that does not parse is taken, so its error is reported, not hidden.
func isPipeline(data []byte) bool {
	var top map[string]any
	if err := yaml.Unmarshal(data, &top); err != nil {
		return true
	}
	_, ok := top["source"]
	return ok
}
