package wasmbuild

import (
	"context"
	"fmt"
)

const cInstall = "TODO"

func buildC(ctx context.Context, o Options) error {
	return fmt.Errorf("%w: %s: C is not wired yet", ErrUnsupported, o.Dir)
}
