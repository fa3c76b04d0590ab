package server

import (
	"errors"
	"net/http"
	"regexp"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/mmtoolkit/mmtoolkit/internal/app/embed"
	"github.com/mmtoolkit/mmtoolkit/registry"
	"github.com/mmtoolkit/mmtoolkit/webapp"
)

// The embed's pages (docs/embed.md): the host page's script, the frame a
// <mattermost-channel> shows, and the sign-in popup. The frame is the only
// page of mmtoolkit another origin may frame, and only the origins its
// app lists (embedFrameHeaders); an unknown app gets no frame at all.

// mountEmbedPages adds /embed/v1/*. Static segments: chi prefers them to
// the webapp's /{team}/{pluginid}/* routes.
func (s *Server) mountEmbedPages(r chi.Router) {
	pages := webapp.NewEmbedPages(webapp.Config{})
	if err := pages.Err(); err != nil {
		s.log.Warn("embed pages not served", "err", err)
	}
	for path, h := range map[string]http.HandlerFunc{
		"/embed/v1/embed.js":   pages.ServeScript,
		"/embed/v1/embed.d.ts": pages.ServeTypes,
		"/embed/v1/frame":      func(w http.ResponseWriter, r *http.Request) { s.serveEmbedFrame(w, r, pages) },
		"/embed/v1/signin":     func(w http.ResponseWriter, r *http.Request) { s.serveEmbedSignin(w, r, pages) },
	} {
		r.Get(path, h)
		r.Head(path, h)
	}
}

// The element's attributes, as the frame accepts them: anything else is
// dropped (the frame falls back to its defaults), never echoed.
var (
	embedChannelParam = regexp.MustCompile(`^[a-z0-9]{26}$`)
	embedAccentParam  = regexp.MustCompile(`^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$`)
)

var errEmbedPageAppUnknown = errorf(http.StatusNotFound, CodeEmbedAppNotFound,
	"no embed app has this id: copy the app id from the admin console's Embedding page into the element's app attribute")

// embedPageApp finds the page's app (?app=); an unknown one is answered
// 404 with no framing allowed.
func (s *Server) embedPageApp(w http.ResponseWriter, r *http.Request) (*registry.EmbedApp, bool) {
	id := r.URL.Query().Get("app")
	app, err := s.lookupEmbedApp(id)
	if err != nil || app == nil {
		s.embedFrameHeaders(w, nil)
		if err != nil && !errors.Is(err, embed.ErrAppNotFound) {
			s.log.Warn("embed app lookup", "app", id, "err", err)
		}
		s.writeError(w, r, errEmbedPageAppUnknown)
		return nil, false
	}
	return app, true
}

func (s *Server) serveEmbedFrame(w http.ResponseWriter, r *http.Request, pages *webapp.EmbedPages) {
	app, ok := s.embedPageApp(w, r)
	if !ok {
		return
	}
	s.embedFrameHeaders(w, app)
	q := r.URL.Query()
	f := webapp.EmbedFrame{App: app.ID, AppName: app.Name, Origins: app.Origins, Theme: "light"}
	if c := q.Get("channel"); embedChannelParam.MatchString(c) {
		f.Channel = c
	}
	f.Channels = []string{}
	for _, c := range strings.Split(q.Get("channels"), ",") {
		if embedChannelParam.MatchString(c) && len(f.Channels) < embedMaxTargets {
			f.Channels = append(f.Channels, c)
		}
	}
	if q.Get("theme") == "dark" {
		f.Theme = "dark"
	}
	if a := q.Get("accent"); embedAccentParam.MatchString(a) {
		f.Accent = a
	}
	if q.Get("signin") == "popup" {
		f.Signin = "popup"
	}
	if q.Get("height") == "auto" {
		f.Height = "auto"
	}
	pages.ServeFrame(w, r, f)
}

func (s *Server) serveEmbedSignin(w http.ResponseWriter, r *http.Request, pages *webapp.EmbedPages) {
	app, ok := s.embedPageApp(w, r)
	if !ok {
		return
	}
	pages.ServeSignin(w, r, app.ID, app.Name)
}
