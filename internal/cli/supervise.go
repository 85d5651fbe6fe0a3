package cli

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/internal/redact"
	"github.com/dataweaver/dataweaver/internal/telemetry"
	"github.com/dataweaver/dataweaver/internal/tracing"
)

// The states of a served pipeline, as /pipelines reports them.
const (
	stateStarting   = "starting"   // being built, or waiting for its previous run to drain
	stateRunning    = "running"    // its engine runs
	stateRestarting = "restarting" // failed; waiting out the backoff
	stateFinished   = "finished"   // its input ended; not started again
	stateFailed     = "failed"     // invalid file; waits for the file to change
	stateStopped    = "stopped"    // drained by a signal or over HTTP, or its file removed
)

// Why a unit was halted: the summary of its last run says so.
const (
	haltChanged = "its file changed"
	haltRemoved = "its file was removed"
	haltHTTP    = "stopped over HTTP"
	haltSignal  = "weave serve is stopping"
)

// supervisor runs weave serve's pipelines, one goroutine (unit) per file.
type supervisor struct {
	w                   *weave
	ctx                 context.Context // cancelled by the second signal: abort everything
	backoff, backoffMax time.Duration
	col                 *telemetry.Collector // nil without --http

	all sync.WaitGroup // every unit goroutine, removed ones included

	reloading sync.Mutex // one reload at a time (SIGHUP, the file watch)

	mu       sync.Mutex
	units    map[string]*unit  // by absolute file path
	names    map[string]string // pipeline name -> file of the unit running it
	stopping bool              // stopAll began: no reload any more
}

// unit is one pipeline file under supervision. Its fields below mu are
// guarded by the supervisor's mu.
type unit struct {
	file     pipelineFile
	stop     chan struct{} // closed (by halt): drain the run, do not start it again
	stopOnce sync.Once
	why      string        // why halt was called; written before stop is closed
	done     chan struct{} // closed when the unit's goroutine has returned

	name     string
	state    string
	restarts int
	lastErr  string
	cur      *engine.Pipeline // the run in progress, for its live counts
	// rows the runs that ended read and wrote, so the counts in
	// /pipelines cover the process's life, not only the current run.
	rowsIn, rowsOut int64
	reloads         int  // runs started again because the file changed
	held            bool // stopped over HTTP: a changed file does not start it
	// reloadErr is why the file's current content was refused (it does
	// not load) while the previous run goes on; refused is that content's
	// hash, so the watch reports it once, not at every look.
	reloadErr string
	refused   [sha256.Size]byte
}

// apply starts a unit for each file.
func (sv *supervisor) apply(files []pipelineFile) {
	sv.mu.Lock()
	defer sv.mu.Unlock()
	for _, f := range files {
		if !f.other {
			sv.startLocked(f, nil)
		}
	}
}

// startLocked starts f's unit; after, when set, is a unit of the same file
// that must have ended first (its run holds the pipeline's state lock).
func (sv *supervisor) startLocked(f pipelineFile, after *unit) {
	u := &unit{file: f, stop: make(chan struct{}), done: make(chan struct{}), state: stateStarting,
		name: defaultPipelineName(f.path)}
	if after != nil {
		// Shown at once, so /pipelines counts a reload as soon as it
		// begins; the rows follow once the drained run has added its last.
		u.name, u.restarts, u.reloads = after.name, after.restarts, after.reloads
	}
	sv.units[f.path] = u
	sv.all.Add(1)
	go func() {
		defer sv.all.Done()
		defer close(u.done)
		if after != nil {
			<-after.done
			// The counts go on across a reload: read them once the
			// drained run has added its last rows.
			sv.set(u, func() {
				u.restarts, u.rowsIn, u.rowsOut, u.reloads = after.restarts, after.rowsIn, after.rowsOut, after.reloads
			})
		}
		sv.supervise(u)
	}()
}

// reload applies files, the pipelines found now, to what runs: a
// pipeline whose file changed is drained and started again from the new
// file, new files start, removed ones stop. A changed file that does not
// load leaves its pipeline running from the previous content, with the
// error in the log and in /pipelines.
func (sv *supervisor) reload(files []pipelineFile) {
	sv.reloading.Lock()
	defer sv.reloading.Unlock()
	log := sv.w.logger
	// Check the changed files first, outside the lock: building a
	// pipeline may compile Wasm modules.
	type change struct {
		old *unit
		f   pipelineFile
	}
	var changed []change
	sv.mu.Lock()
	for _, f := range files {
		if old := sv.units[f.path]; old != nil && old.file.hash != f.hash && old.refused != f.hash {
			changed = append(changed, change{old, f})
		}
	}
	sv.mu.Unlock()
	refused := map[*unit]error{}
	for _, c := range changed {
		if err := sv.check(c.f); err != nil {
			refused[c.old] = err
		}
	}

	sv.mu.Lock()
	defer sv.mu.Unlock()
	if sv.stopping {
		return
	}
	keep := map[string]bool{}
	for _, f := range files {
		old := sv.units[f.path]
		if f.other && old == nil {
			continue
		}
		keep[f.path] = true
		switch {
		case old == nil:
			log.Info("reload: new pipeline file", "file", f.path)
			sv.startLocked(f, nil)
		case old.file.hash == f.hash:
			// Back to what runs (an edit undone): nothing refused any more.
			old.reloadErr, old.refused = "", [sha256.Size]byte{}
		case old.refused == f.hash:
		case old.held:
			// Stopped over HTTP: it stays stopped; /start runs the new file.
			old.file, old.reloadErr = f, ""
		case refused[old] != nil && old.live():
			err := refused[old]
			log.Error("reload: pipeline file changed but does not load; the pipeline goes on from its previous file",
				"file", f.path, "pipeline", old.name, "err", err)
			old.reloadErr, old.refused = err.Error(), f.hash
		default:
			log.Info("reload: pipeline file changed; draining it and starting it again", "file", f.path, "pipeline", old.name)
			old.halt(haltChanged)
			old.reloads++
			sv.startLocked(f, old)
		}
	}
	for path, u := range sv.units {
		if !keep[path] {
			log.Info("reload: pipeline file removed; draining it", "file", path, "pipeline", u.name)
			u.halt(haltRemoved)
			delete(sv.units, path)
		}
	}
}

// check builds f's pipeline as weave validate does (no position is read,
// nothing is opened) and closes it again: a file that passes will start.
func (sv *supervisor) check(f pipelineFile) error {
	opts := sv.w.configOptions(sv.w.logger.With("file", f.path))
	opts.NoPositions = true
	p, err := loadAlone(f.path, opts)
	if err != nil {
		return err
	}
	return p.Close()
}

// live reports whether u runs, or is about to: a reload that cannot build
// the new file keeps it. A failed, finished or stopped unit has no run to
// keep, so its changed file is tried as it is.
func (u *unit) live() bool {
	select {
	case <-u.stop:
		return false
	default:
	}
	return u.state == stateStarting || u.state == stateRunning || u.state == stateRestarting
}

// haltedBecause is why u was halted, "" if it was not.
func (u *unit) haltedBecause() string {
	select {
	case <-u.stop:
		return u.why
	default:
		return ""
	}
}

// halt tells u to drain and not start again; why is said in the summary
// of its last run.
func (u *unit) halt(why string) {
	u.stopOnce.Do(func() {
		u.why = why
		close(u.stop)
	})
}

// stopAll drains every unit, removed ones still draining included, and
// waits for them.
func (sv *supervisor) stopAll() {
	sv.mu.Lock()
	sv.stopping = true
	for _, u := range sv.units {
		u.halt(haltSignal)
	}
	sv.mu.Unlock()
	sv.all.Wait()
}

// supervise runs u's pipeline until it finishes, fails to load, or is
// stopped, starting it again after a failure with exponential backoff.
func (sv *supervisor) supervise(u *unit) {
	wait := sv.backoff
	for {
		started := time.Now()
		state, err := sv.runOnce(u)
		if err == nil || state != stateRestarting {
			sv.set(u, func() { u.state = state })
			return
		}
		if time.Since(started) >= sv.backoffMax {
			// It ran a good while: a new failure, not the same one again.
			wait = sv.backoff
		}
		var name string
		var restarts int
		sv.set(u, func() {
			u.restarts, u.state = u.restarts+1, stateRestarting
			name, restarts = u.name, u.restarts
		})
		sv.w.logger.Error("pipeline failed; restarting it", "file", u.file.path, "pipeline", name,
			"in", wait, "restarts", restarts, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-u.stop:
			t.Stop()
			sv.set(u, func() { u.state = stateStopped })
			return
		case <-sv.ctx.Done():
			t.Stop()
			sv.set(u, func() { u.state = stateStopped })
			return
		}
		wait = min(2*wait, sv.backoffMax)
	}
}

// runOnce builds u's pipeline from its file, as weave run does, and runs it.
// It returns the state to take: restarting (with the error) after a run
// that failed, failed when the file is invalid or its name taken, finished
// after the end of input, stopped after a drain.
func (sv *supervisor) runOnce(u *unit) (state string, err error) {
	log := sv.w.logger.With("file", u.file.path)
	select {
	case <-u.stop:
		return stateStopped, nil
	default:
	}
	p, err := loadAlone(u.file.path, sv.w.configOptions(log))
	if err != nil {
		if !errors.Is(err, engine.ErrInvalidConfig) {
			sv.set(u, func() { u.lastErr = err.Error() })
			return stateRestarting, err
		}
		return sv.failed(u, log, err)
	}
	// The engine names the pipeline in its own records already.
	log = log.With("pipeline", p.Name)
	sv.set(u, func() { u.name = p.Name })
	if err := sv.claim(u, p.Name); err != nil {
		return sv.failed(u, log, errors.Join(err, p.Close()))
	}
	defer sv.unclaim(p.Name)

	drain := make(chan struct{})
	p.Drain = drain
	p.Metrics = p.NewMetrics()
	// Each run gets its own tracer, as weave run does: its spans are
	// flushed when the run ends, so a restart loses none.
	stopTracing, err := tracing.Trace(sv.ctx, p, sv.w.opts.Lookup, log)
	if err != nil {
		return sv.failed(u, log, errors.Join(err, p.Close()))
	}
	defer stopTracing()
	sv.set(u, func() { u.cur, u.state, u.name = p, stateRunning, p.Name })
	if sv.col != nil {
		sv.col.Add(p)
		defer sv.col.Remove(p)
	}
	ran := make(chan struct{})
	go func() {
		select {
		case <-u.stop:
			close(drain)
		case <-ran:
		}
	}()
	log.Info("pipeline started")
	m, err := sv.w.opts.Runner.Run(sv.ctx, p)
	close(ran)
	sv.set(u, func() {
		in, out := counts(m)
		u.rowsIn, u.rowsOut, u.cur = u.rowsIn+in, u.rowsOut+out, nil
		if err != nil {
			u.lastErr = err.Error()
		}
	})
	if m != nil {
		sv.w.writeRunSummary(p.Name, m, err, u.haltedBecause())
	}
	switch {
	case err != nil && sv.ctx.Err() != nil:
		return stateStopped, err
	case err != nil:
		return stateRestarting, err
	case m != nil && m.Interrupted.Load():
		log.Info("pipeline drained", "position", m.EndPosition())
		return stateStopped, nil
	}
	log.Info("pipeline finished: its input ended", "rows", m.Steps[0].RowsOut.Load())
	return stateFinished, nil
}

// failed records a pipeline that cannot start from its file as it is.
func (sv *supervisor) failed(u *unit, log *slog.Logger, err error) (string, error) {
	log.Error("pipeline cannot start; fix its file (a changed file is reloaded)", "err", err)
	sv.set(u, func() { u.lastErr = err.Error() })
	return stateFailed, err
}

// claim reserves a pipeline name: two files of one name would share state
// and metric labels.
func (sv *supervisor) claim(u *unit, name string) error {
	sv.mu.Lock()
	defer sv.mu.Unlock()
	if sv.names == nil {
		sv.names = map[string]string{}
	}
	if other, ok := sv.names[name]; ok && other != u.file.path {
		return fmt.Errorf("%w: pipeline name %q is already served from %s", engine.ErrInvalidConfig, name, other)
	}
	sv.names[name] = u.file.path
	return nil
}

func (sv *supervisor) unclaim(name string) {
	sv.mu.Lock()
	defer sv.mu.Unlock()
	delete(sv.names, name)
}

// defaultPipelineName names a file's pipeline before it is loaded (the
// file's own default): a file that does not load still shows a name.
func defaultPipelineName(path string) string {
	base := filepath.Base(path)
	return strings.TrimSuffix(base, filepath.Ext(base))
}

func (sv *supervisor) set(u *unit, f func()) {
	sv.mu.Lock()
	defer sv.mu.Unlock()
	f()
}

// counts returns the rows a run read from its source and the rows every
// sink wrote (the least among the sinks, so fan-out does not count twice).
func counts(m *engine.Metrics) (in, out int64) {
	if m == nil || len(m.Steps) == 0 {
		return 0, 0
	}
	in, out = m.Steps[0].RowsOut.Load(), -1
	for _, s := range m.Steps[1:] {
		if s.Kind == engine.KindSink && s.Name != "dead_letter" {
			if n := s.RowsOut.Load(); out < 0 || n < out {
				out = n
			}
		}
	}
	return in, max(out, 0)
}

// pipelineStatus is one entry of GET /pipelines.
type pipelineStatus struct {
	Name      string `json:"name"`
	File      string `json:"file"`
	State     string `json:"state"`
	Restarts  int    `json:"restarts"`
	Reloads   int    `json:"reloads"`
	LastError string `json:"last_error,omitempty"`
	// ReloadError: the file changed but does not load; the run shown
	// goes on from the previous content.
	ReloadError string `json:"reload_error,omitempty"`
	// Held: stopped over HTTP; only POST .../start runs it again.
	Held    bool  `json:"held,omitempty"`
	RowsIn  int64 `json:"rows_in"`
	RowsOut int64 `json:"rows_out"`
}

// statusLocked is u's entry in /pipelines. Its errors pass through
// secrets: a client library's error may quote a password the file gave
// (the log is redacted by its writer; an HTTP answer is not written there).
func (u *unit) statusLocked(secrets *redact.Set) pipelineStatus {
	s := pipelineStatus{Name: u.name, File: u.file.path, State: u.state, Restarts: u.restarts, Reloads: u.reloads,
		LastError: secrets.String(u.lastErr), ReloadError: secrets.String(u.reloadErr), Held: u.held,
		RowsIn: u.rowsIn, RowsOut: u.rowsOut}
	if u.cur != nil {
		in, out := counts(u.cur.Metrics)
		s.RowsIn, s.RowsOut = s.RowsIn+in, s.RowsOut+out
	}
	return s
}

func (sv *supervisor) status() []pipelineStatus {
	sv.mu.Lock()
	defer sv.mu.Unlock()
	list := make([]pipelineStatus, 0, len(sv.units))
	for _, u := range sv.units {
		list = append(list, u.statusLocked(sv.w.secrets))
	}
	sort.Slice(list, func(i, j int) bool { return list[i].File < list[j].File })
	return list
}

// supervised lists each pipeline once for the metrics (weave_pipeline_*):
// where two files show one name, the one holding it.
func (sv *supervisor) supervised() []telemetry.Supervised {
	sv.mu.Lock()
	defer sv.mu.Unlock()
	var out []telemetry.Supervised
	seen := map[string]bool{}
	for _, u := range sv.units {
		if seen[u.name] {
			continue
		}
		seen[u.name] = true
		v := sv.byNameLocked(u.name)
		out = append(out, telemetry.Supervised{Pipeline: v.name, State: v.state, Restarts: v.restarts, Reloads: v.reloads})
	}
	return out
}

func (sv *supervisor) statusOf(name string) (pipelineStatus, bool) {
	sv.mu.Lock()
	defer sv.mu.Unlock()
	if u := sv.byNameLocked(name); u != nil {
		return u.statusLocked(sv.w.secrets), true
	}
	return pipelineStatus{}, false
}

// byNameLocked finds the unit of the pipeline called name. Two files may
// show one name for a while (the second fails on it): the one that holds
// the name wins.
func (sv *supervisor) byNameLocked(name string) *unit {
	if path, ok := sv.names[name]; ok && sv.units[path] != nil {
		return sv.units[path]
	}
	var found *unit
	for _, u := range sv.units {
		if u.name == name && (found == nil || u.file.path < found.file.path) {
			found = u
		}
	}
	return found
}

// controlled finds the unit a control request names, or says with which
// HTTP status and why it cannot be acted on.
func (sv *supervisor) controlled(name string) (*unit, int, error) {
	u := sv.byNameLocked(name)
	switch {
	case u == nil:
		return nil, http.StatusNotFound, fmt.Errorf("no pipeline %q", name)
	case sv.stopping:
		return nil, http.StatusServiceUnavailable, errors.New("weave serve is stopping")
	}
	return u, 0, nil
}

// stopUnit drains the pipeline called name and holds it stopped. It
// returns the HTTP status to answer with.
func (sv *supervisor) stopUnit(name string) (int, error) {
	sv.mu.Lock()
	defer sv.mu.Unlock()
	u, code, err := sv.controlled(name)
	switch {
	case err != nil:
		return code, err
	case u.held:
		return http.StatusOK, nil // stopped already: asking twice is no error
	}
	u.held = true
	u.halt(haltHTTP)
	return http.StatusAccepted, nil
}

// startUnit runs the pipeline called name again from its file, once its
// previous run (if still draining) has ended.
func (sv *supervisor) startUnit(name string) (int, error) {
	sv.mu.Lock()
	defer sv.mu.Unlock()
	u, code, err := sv.controlled(name)
	switch {
	case err != nil:
		return code, err
	case u.live():
		return http.StatusConflict, fmt.Errorf("pipeline %q is %s already", name, u.state)
	}
	f := u.file
	if data, err := os.ReadFile(f.path); err == nil {
		// The file as it is now: the next reload compares with this.
		f.hash = sha256.Sum256(data)
	}
	sv.startLocked(f, u)
	return http.StatusAccepted, nil
}
