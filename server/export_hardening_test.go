package server

import "time"

// SetPushBodyTimeouts shortens the push body's stall and total deadlines
// for a test; the returned func restores them.
func SetPushBodyTimeouts(idle, max time.Duration) (restore func()) {
	oldIdle, oldMax := pushBodyIdle, pushBodyMax
	pushBodyIdle, pushBodyMax = idle, max
	return func() { pushBodyIdle, pushBodyMax = oldIdle, oldMax }
}
