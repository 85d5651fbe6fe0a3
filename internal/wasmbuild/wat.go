package wasmbuild

import (
	"context"
	"fmt"
)

const watInstall = "TODO"

func buildWAT(ctx context.Context, o Options) error {
	return fmt.Errorf("%w: %s: WebAssembly text is not wired yet", ErrUnsupported, o.Dir)
}
