package cli

import (
	"context"
	"crypto/sha256"
	"log/slog"
	"time"
)

// defaultWatchEvery is how often weave serve looks at its pipeline files:
// an edit is running within about two looks (the debounce below), and a
// look costs a directory listing and reading a few small files.
const defaultWatchEvery = time.Second

// watch looks at args every interval and reloads when what it finds
// changed and then held still for one more look (see watcher). It returns
// when ctx ends.
//
// It polls rather than subscribing to file system events (RATIONALE.md):
// the same comparison of contents serves SIGHUP, and it sees every way a
// file is replaced (rename over it, a Kubernetes ConfigMap's symlink swap,
// a network file system) without a watch to re-arm.
func (sv *supervisor) watch(ctx context.Context, args []string, every time.Duration, applied []pipelineFile) {
	kinds := map[[sha256.Size]byte]bool{}
	w := &watcher{
		look:  func() ([]pipelineFile, error) { return findPipelines(args, kinds) },
		apply: sv.reload,
		log:   sv.w.logger,
		done:  fingerprint(applied),
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			w.step()
		}
	}
}

// watcher decides, look by look, when the pipeline files changed enough
// to reload: when what it finds (the files and their contents) differs
// from what was applied last and is the same as at the look before. An
// editor or a deploy tool that writes a file in several steps is not
// caught half-way, unless it pauses longer than a look between them.
type watcher struct {
	look  func() ([]pipelineFile, error)
	apply func([]pipelineFile)
	log   *slog.Logger

	done    string // fingerprint of the files applied last
	last    string // fingerprint at the previous look; "" after an error
	lastErr string // the previous look's error, said once
}

func (w *watcher) step() {
	files, err := w.look()
	if err != nil {
		// Said once, not at every look; SIGHUP reports it again.
		if err.Error() != w.lastErr {
			w.log.Error("watching pipeline files: keeping the pipelines as they are", "err", err)
			w.lastErr = err.Error()
		}
		w.last = ""
		return
	}
	w.lastErr = ""
	now := fingerprint(files)
	if now != w.done && now == w.last {
		w.apply(files)
		w.done = now
	}
	w.last = now
}

// fingerprint sums up a set of files and their contents in one string.
func fingerprint(files []pipelineFile) string {
	h := sha256.New()
	for _, f := range files {
		h.Write([]byte(f.path))
		h.Write([]byte{0})
		h.Write(f.hash[:])
	}
	return string(h.Sum(nil))
}
