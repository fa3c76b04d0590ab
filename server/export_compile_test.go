package server

// HoldCompileSlot takes one of the server's compile slots, as a push that
// is compiling does; the returned func gives it back.
func (s *Server) HoldCompileSlot() (release func()) {
	s.compileSlots <- struct{}{}
	return func() { <-s.compileSlots }
}
