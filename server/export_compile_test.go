package server

// HoldCompileSlot takes one of the server's compile slots, as a push that
// is compiling does; the returned func gives it back.
func (s *Server) HoldCompileSlot() (release func()) {
	return s.compiles.Hold()
}

// HoldSourceMaps keeps the server from building source maps left for after
// a push until the returned func is called.
func (s *Server) HoldSourceMaps() (release func()) {
	return s.maps.Hold()
}

// BuildMapsWithBundles makes every push build its source maps before it
// answers, as when sourcemaps.MaxPending maps already wait.
func (s *Server) BuildMapsWithBundles() {
	s.maps.SetMax(0)
}
