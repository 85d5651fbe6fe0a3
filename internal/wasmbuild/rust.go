package wasmbuild

import (
	"context"
	"fmt"
)

const rustInstall = "TODO"

func buildRust(ctx context.Context, o Options) error {
	return fmt.Errorf("%w: %s: Rust is not wired yet", ErrUnsupported, o.Dir)
}
