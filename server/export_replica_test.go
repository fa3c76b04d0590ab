package server

// Compressions counts the blobs whose variants this server made.
func (s *Server) Compressions() uint64 { return s.compressor.Done() }
