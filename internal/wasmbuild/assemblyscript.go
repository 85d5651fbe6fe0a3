package wasmbuild

import (
	"context"
	"fmt"
)

const asInstall = "TODO"

func buildAssemblyScript(ctx context.Context, o Options) error {
	return fmt.Errorf("%w: %s: AssemblyScript is not wired yet", ErrUnsupported, o.Dir)
}
