package server

// BlobFilesSent counts the bundle responses whose body was sent from a
// file (0 without Config.BlobFiles).
func (s *Server) BlobFilesSent() uint64 {
	if s.files == nil {
		return 0
	}
	return s.files.sent.Load()
}
