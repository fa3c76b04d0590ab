package server

import (
	"github.com/mmtoolkit/mmtoolkit/internal/app/publish"
)

// CompileMemory is what the program lets its servers do to the process's
// garbage collector around compiles (publish.CompileMemory). The
// collector's settings belong to the process, not to one Server (a test
// binary runs many, in parallel), so a Server changes none of them itself:
// it calls the policy its Config names. mmtoolkit serve installs
// GCOffDuringCompiles; nil (tests, embedders) leaves the collector alone.
type CompileMemory = publish.CompileMemory

// GCOffDuringCompiles is the policy mmtoolkit serve runs with: the
// collector off while compiles run, and compile garbage given back to the
// operating system once pushes pause (publish.GCOffDuringCompiles). It is
// one policy for the process, as the collector is.
func GCOffDuringCompiles() CompileMemory { return publish.GCOffDuringCompiles() }

// defaultReleaseAfter is Timing.ReleaseAfter's default
// (publish.DefaultReleaseAfter).
const defaultReleaseAfter = publish.DefaultReleaseAfter
