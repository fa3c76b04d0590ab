package server

// PushBudgetInFlight is the bytes pushes in flight have reserved now.
func (s *Server) PushBudgetInFlight() int64 { return s.pushBudget.inFlight() }
