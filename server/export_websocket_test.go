package server

import "time"

// SetWebsocketRevalidate shortens how often a websocket's token is checked
// again, for a test; the returned func restores it.
func SetWebsocketRevalidate(d time.Duration) (restore func()) {
	old := wsRevalidate
	wsRevalidate = d
	return func() { wsRevalidate = old }
}
