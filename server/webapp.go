package server

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/mmtoolkit/mmtoolkit/slots"
	"github.com/mmtoolkit/mmtoolkit/webapp"
)

// mountWebapp serves the Redux webapp host: its HTML shell on every route
// a person opens (Mattermost's URLs: /login, /{team}/channels/{channel},
// plugin views /{team}/{pluginid}/... and /plug/{pluginid}/...) and its
// content-hashed assets under /static/. chi prefers static segments, so
// /api/..., /bundles/..., /plugins/... and the like keep their handlers.
func (s *Server) mountWebapp(r chi.Router) {
	host := webapp.New(webapp.Config{Team: s.shellTeam, Demo: s.demoLogins()})
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

// demoIdentity is the sandbox: it knows every user and their password.
type demoIdentity interface {
	userLister
	DemoPassword() string
}

// demoLogins lists the sandbox's users for the login page; nil in front of
// a real Mattermost, whose accounts the page must not hint at.
func (s *Server) demoLogins() *webapp.Demo {
	d, ok := s.identity.(demoIdentity)
	if !ok {
		return nil
	}
	demo := &webapp.Demo{Password: d.DemoPassword()}
	for _, u := range d.Users() {
		du := webapp.DemoUser{Username: u.Username}
		if u.SystemAdmin() {
			du.Role = "system admin"
		}
		demo.Users = append(demo.Users, du)
	}
	return demo
}

// shellTeam is what the page of a team's URL learns with its HTML: the
// manifest GET /api/v1/manifest would answer the session's user (the same
// cached bytes, under the same checks), so the host neither requests it
// nor discovers its bundles late. Anything the API would refuse (no valid
// session, not a member, no such team) gives nil, and the page's own
// request gets the API's explanation.
func (s *Server) shellTeam(r *http.Request, team string) *webapp.TeamBoot {
	c, err := r.Cookie("MMAUTHTOKEN")
	if err != nil || c.Value == "" {
		return nil
	}
	ctx := r.Context()
	who, err := s.identity.Authenticate(ctx, c.Value)
	if err != nil {
		return nil
	}
	t, err := s.identity.Team(ctx, who, team)
	if err != nil || !who.CanAccessTeam(t.ID) {
		return nil
	}
	m, err := s.manifest(ctx, manifestKey{t.ID, slots.Web})
	if err != nil {
		return nil
	}
	b := &webapp.TeamBoot{Manifest: m.body}
	for _, p := range m.manifest.Plugins {
		b.Bundles = append(b.Bundles, webapp.Script{Plugin: p.ID, URL: p.Bundle.URL, Integrity: p.Bundle.Integrity})
		b.HostModules = append(b.HostModules, p.HostModules...) // the shell keeps each once
	}
	return b
}
