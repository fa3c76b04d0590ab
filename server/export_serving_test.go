package server

import "context"

// ConsoleCatalogue is the admin console's shared catalogue as its pages
// get it now: the same pointer while it is not rebuilt.
func (s *Server) ConsoleCatalogue(ctx context.Context) (any, error) {
	return s.console.Catalogue(ctx)
}
