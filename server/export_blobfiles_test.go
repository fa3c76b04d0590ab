package server

// BlobFilesSent counts the bundle responses whose body was sent from a
// file (0 without Config.BlobFiles).
func (s *Server) BlobFilesSent() uint64 {
	if s.files == nil {
		return 0
	}
	return s.files.sent.Load()
}

// MemoryReleases counts the releases of compile memory to the OS.
func (s *Server) MemoryReleases() uint64 { return s.compiles.Releases() }
