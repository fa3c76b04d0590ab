//go:build unix

package pluginpkg_test

import (
	"path/filepath"
	"syscall"
	"testing"

	"github.com/mmtoolkit/mmtoolkit/bundler/pluginpkg"
)

func TestReadDirFifo(t *testing.T) {
	root := writeDir(t, map[string]string{"plugin.json": manifest(), "webapp/index.tsx": entryTSX})
	if err := syscall.Mkfifo(filepath.Join(root, "pipe"), 0o644); err != nil {
		t.Skip("mkfifo:", err)
	}
	// Reading a fifo would block forever: it must be refused from its type.
	_, err := pluginpkg.ReadDir(root, pluginpkg.Limits{}, nil)
	wantError(t, err, pluginpkg.CodeDeviceEntry, "pipe", "")
}
