package coordinator_test

import (
	"os"
	"testing"

	"github.com/dataweaver/dataweaver/connectors/internal/pgtest"
	"github.com/dataweaver/dataweaver/connectors/internal/s3test"
)

func TestMain(m *testing.M) {
	code := m.Run()
	s3test.Stop()
	// The PostgreSQL cluster the Postgres splits and positions tests share.
	pgtest.Stop()
	os.Exit(code)
}
