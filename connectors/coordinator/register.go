package coordinator

import "github.com/dataweaver/dataweaver/engine/config"

func init() { config.RegisterCoordinator(Spec()) }
