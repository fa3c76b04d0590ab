//go:build !unix

package bundler

import "time"

func processCPU() time.Duration { return 0 }
