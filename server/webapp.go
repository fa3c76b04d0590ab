package server

import (
	"github.com/go-chi/chi/v5"

	"github.com/mmtoolkit/mmtoolkit/webapp"
)

// mountWebapp serves the Redux webapp host: its HTML shell on every route
// a person opens (Mattermost's URLs: /login, /{team}/channels/{channel},
// plugin views /{team}/{pluginid}/... and /plug/{pluginid}/...) and its
// content-hashed assets under /static/. chi prefers static segments, so
// /api/..., /bundles/..., /plugins/... and the like keep their handlers.
func (s *Server) mountWebapp(r chi.Router) {
	host := webapp.New(webapp.Config{})
	if err := host.Err(); err != nil {
		s.log.Warn("webapp host not served", "err", err)
	}
	shell := host.Shell()
	for _, pattern := range []string{
		"/", "/login", "/{team}", "/{team}/channels/{channel}",
		"/{team}/{pluginid}", "/{team}/{pluginid}/*", "/plug/{pluginid}", "/plug/{pluginid}/*",
	} {
		r.Method("GET", pattern, shell)
		r.Method("HEAD", pattern, shell)
	}
	r.Method("GET", "/static/*", host.Static())
	r.Method("HEAD", "/static/*", host.Static())
}
