package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/dataweaver/dataweaver/engine"
	"github.com/dataweaver/dataweaver/engine/config"
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
	stateStopped    = "stopped"    // drained by a signal, or its file removed
)

// supervisor runs weave serve's pipelines, one goroutine (unit) per file.
type supervisor struct {
	w                   *weave
	ctx                 context.Context // cancelled by the second signal: abort everything
	backoff, backoffMax time.Duration
	col                 *telemetry.Collector // nil without --http

	all sync.WaitGroup // every unit goroutine, removed ones included

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
	done     chan struct{} // closed when the unit's goroutine has returned

	name     string
	state    string
	restarts int
	lastErr  string
	cur      *engine.Pipeline // the run in progress, for its live counts
	// rows the runs that ended read and wrote, so the counts in
	// /pipelines cover the process's life, not only the current run.
	rowsIn, rowsOut int64
}

// apply starts a unit for each file.
func (sv *supervisor) apply(files []pipelineFile) {
	sv.mu.Lock()
	defer sv.mu.Unlock()
	for _, f := range files {
		sv.startLocked(f, nil)
	}
}

// startLocked starts f's unit; after, when set, is a unit of the same file
// that must have ended first (its run holds the pipeline's state lock).
func (sv *supervisor) startLocked(f pipelineFile, after *unit) {
	u := &unit{file: f, stop: make(chan struct{}), done: make(chan struct{}), state: stateStarting,
		name: defaultPipelineName(f.path)}
	if after != nil {
		u.name = after.name
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
			sv.set(u, func() { u.restarts, u.rowsIn, u.rowsOut = after.restarts, after.rowsIn, after.rowsOut })
		}
		sv.supervise(u)
	}()
}

// reload reads the files again and applies the difference: changed files
// are drained and started again, new ones start, removed ones stop.
func (sv *supervisor) reload(args []string) {
	log := sv.w.logger
	files, err := findPipelines(args)
	if err != nil {
		log.Error("reload: keeping the pipelines as they are", "err", err)
		return
	}
	sv.mu.Lock()
	defer sv.mu.Unlock()
	if sv.stopping {
		return
	}
	keep := map[string]bool{}
	for _, f := range files {
		keep[f.path] = true
		old := sv.units[f.path]
		switch {
		case old == nil:
			log.Info("reload: new pipeline file", "file", f.path)
			sv.startLocked(f, nil)
		case old.file.hash != f.hash:
			log.Info("reload: pipeline file changed; draining it and starting it again", "file", f.path, "pipeline", old.name)
			old.halt()
			sv.startLocked(f, old)
		}
	}
	for path, u := range sv.units {
		if !keep[path] {
			log.Info("reload: pipeline file removed; draining it", "file", path, "pipeline", u.name)
			u.halt()
			delete(sv.units, path)
		}
	}
}

// halt tells u to drain and not start again.
func (u *unit) halt() { u.stopOnce.Do(func() { close(u.stop) }) }

// stopAll drains every unit, removed ones still draining included, and
// waits for them.
func (sv *supervisor) stopAll() {
	sv.mu.Lock()
	sv.stopping = true
	for _, u := range sv.units {
		u.halt()
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
	p, err := config.Load(u.file.path, sv.w.configOptions(log))
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
	m, err := p.Run(sv.ctx)
	close(ran)
	sv.set(u, func() {
		in, out := counts(m)
		u.rowsIn, u.rowsOut, u.cur = u.rowsIn+in, u.rowsOut+out, nil
		if err != nil {
			u.lastErr = err.Error()
		}
	})
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
	log.Error("pipeline cannot start; fix its file and send SIGHUP", "err", err)
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
	LastError string `json:"last_error,omitempty"`
	RowsIn    int64  `json:"rows_in"`
	RowsOut   int64  `json:"rows_out"`
}

func (sv *supervisor) status() []pipelineStatus {
	sv.mu.Lock()
	defer sv.mu.Unlock()
	list := make([]pipelineStatus, 0, len(sv.units))
	for _, u := range sv.units {
		s := pipelineStatus{Name: u.name, File: u.file.path, State: u.state, Restarts: u.restarts,
			LastError: u.lastErr, RowsIn: u.rowsIn, RowsOut: u.rowsOut}
		if u.cur != nil {
			in, out := counts(u.cur.Metrics)
			s.RowsIn, s.RowsOut = s.RowsIn+in, s.RowsOut+out
		}
		list = append(list, s)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].File < list[j].File })
	return list
}

// ServeHTTP answers GET /pipelines with the JSON list of pipelines.
func (sv *supervisor) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(sv.status()); err != nil {
		sv.w.logger.Warn("answering /pipelines", "err", err)
	}
}
