package server

import "sync"

// HoldCompileSlot takes one of the server's compile slots, as a push that
// is compiling does; the returned func gives it back.
func (s *Server) HoldCompileSlot() (release func()) {
	return s.compiles.Hold()
}

// HoldSourceMaps keeps the server from building source maps left for after
// a push until the returned func is called.
func (s *Server) HoldSourceMaps() (release func()) {
	h := make(chan struct{})
	s.maps.hold.Store(&h)
	return sync.OnceFunc(func() { s.maps.hold.Store(nil); close(h) })
}

// BuildMapsWithBundles makes every push build its source maps before it
// answers, as when maxPendingMaps maps already wait.
func (s *Server) BuildMapsWithBundles() {
	s.maps.mu.Lock()
	s.maps.max = 0
	s.maps.mu.Unlock()
}
