package cli

import (
	"context"
	"crypto/sha256"
	"time"
)

// defaultWatchEvery is how often weave serve looks at its pipeline files:
// an edit is running within about two looks (the debounce below), and a
// look costs a directory listing and reading a few small files.
const defaultWatchEvery = time.Second

// watch looks at args every interval and reloads when what it finds (the
// pipeline files and their contents) changed and then held still for one
// more look: an editor or a deploy tool that writes a file in several
// steps is not caught half-way. It returns when ctx ends.
//
// It polls rather than subscribing to file system events (RATIONALE.md):
// the same comparison of contents serves SIGHUP, and it sees every way a
// file is replaced (rename over it, a Kubernetes ConfigMap's symlink swap,
// a network file system) without a watch to re-arm.
func (sv *supervisor) watch(ctx context.Context, args []string, every time.Duration, applied []pipelineFile) {
	t := time.NewTicker(every)
	defer t.Stop()
	done, last := fingerprint(applied), ""
	var lastErr string
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		files, err := findPipelines(args)
		if err != nil {
			// Said once, not at every look; SIGHUP reports it again.
			if err.Error() != lastErr {
				sv.w.logger.Error("watching pipeline files: keeping the pipelines as they are", "err", err)
				lastErr = err.Error()
			}
			last = ""
			continue
		}
		lastErr = ""
		now := fingerprint(files)
		if now != done && now == last {
			sv.reload(files)
			done = now
		}
		last = now
	}
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
