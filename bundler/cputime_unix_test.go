//go:build unix

package bundler

import (
	"syscall"
	"time"
)

// processCPU is the CPU time (user + system, all threads) this process has
// used: on a shared machine it measures a build's work where wall time
// also measures the neighbours.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
