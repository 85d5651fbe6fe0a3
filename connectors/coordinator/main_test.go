package coordinator_test

import (
	"os"
	"testing"

	"github.com/dataweaver/dataweaver/connectors/internal/s3test"
	"github.com/dataweaver/dataweaver/internal/pgtest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	s3test.Stop()
	// The PostgreSQL cluster the Postgres splits and positions tests share.
	pgtest.Stop()
	os.Exit(code)
}
