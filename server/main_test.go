package server_test

import (
	"os"
	"testing"

	"github.com/mmtoolkit/mmtoolkit/internal/pgtest"
)

// The replica tests run on a throwaway PostgreSQL cluster the test binary
// starts on first use; TestMain stops it.
func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
