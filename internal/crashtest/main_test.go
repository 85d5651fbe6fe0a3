package crashtest

import (
	"os"
	"testing"
)

func TestMain(m *testing.M) {
	os.Exit(func() int {
		defer Cleanup()
		return m.Run()
	}())
}
