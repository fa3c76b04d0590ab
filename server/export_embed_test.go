package server

import (
	"net/http"
	"time"

	"github.com/mmtoolkit/mmtoolkit/apiv4-proxy/sandbox"
	"github.com/mmtoolkit/mmtoolkit/internal/app/embed"
	"github.com/mmtoolkit/mmtoolkit/registry"
)

// The sandbox must keep offering what the backend flow needs: a type
// assertion that fails would only turn the flow off.
var _ sessionStarter = (*sandbox.Sandbox)(nil)

// SetEmbedClock sets the clock embed tokens are issued and checked by.
func (s *Server) SetEmbedClock(now func() time.Time) { s.embed.app.SetClock(now) }

// SetEmbedMaxTokens sets how many unexpired tokens an app may hold.
func (s *Server) SetEmbedMaxTokens(n int) { s.embed.app.SetMaxTokens(n) }

// EmbedFrameHeaders is embedFrameHeaders.
func (s *Server) EmbedFrameHeaders(w http.ResponseWriter, app *registry.EmbedApp) {
	s.embedFrameHeaders(w, app)
}

// LookupEmbedApp is lookupEmbedApp.
func (s *Server) LookupEmbedApp(id string) (*registry.EmbedApp, error) { return s.lookupEmbedApp(id) }

// EmbedTokenOf is the parser of outside input embed_scope.go keeps, for
// its fuzzer.
var EmbedTokenOf = embedTokenOf

// WellFormedEmbedToken reports whether s has an embed token's form.
func WellFormedEmbedToken(s string) bool { return embed.WellFormed(s, embed.TokenPrefix) }
