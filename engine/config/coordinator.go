package config

import (
	"sync"

	"gopkg.in/yaml.v3"

	"github.com/dataweaver/dataweaver/engine/spec"
)

// keyCoordinator is the top-level key of the section that makes N
// processes running the same file share its work (see RegisterCoordinator).
const keyCoordinator = "coordinator"

var (
	coordinatorMu   sync.RWMutex
	coordinatorSpec *spec.Spec
)

// RegisterCoordinator declares the coordinator section's fields. The
// package that coordinates workers (connectors/coordinator, which speaks
// NATS) registers it from init, as connectors register theirs, so this
// package parses and documents the section without depending on it; a
// program built without it refuses a file with the section.
func RegisterCoordinator(s *spec.Spec) {
	coordinatorMu.Lock()
	defer coordinatorMu.Unlock()
	coordinatorSpec = s
}

// CoordinatorSpec returns the registered coordinator section, nil if none.
func CoordinatorSpec() *spec.Spec {
	coordinatorMu.RLock()
	defer coordinatorMu.RUnlock()
	return coordinatorSpec
}

// coordinator parses the section into f.Coordinator.
func (p *parser) coordinator(f *File, key, n *yaml.Node) {
	s := CoordinatorSpec()
	if s == nil {
		p.errAt(key, keyCoordinator, "this program cannot coordinate workers (it was built without connectors/coordinator); remove the section to run alone")
		return
	}
	parsed, errs := s.Parse(n, p.file, keyCoordinator)
	p.errs = append(p.errs, errs...)
	p.secrets = append(p.secrets, parsed.Secrets()...)
	if len(errs) == 0 {
		f.Coordinator = parsed
	}
}
