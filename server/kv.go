package server

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/mmtoolkit/mmtoolkit/registry"
)

// Limits of the plugin KV store. The per-user totals are over every plugin
// and scope, an entry counting for the user who wrote it last: without
// them one member could fill every team's scope of every plugin, and a
// user their own scope of each plugin, 64 MiB at a time.
const (
	kvMaxValue   = 64 << 10
	kvMaxKeys    = 1000 // per plugin and scope
	kvMaxKeySize = 256
)

var (
	kvUserMaxKeys  int64 = 5000
	kvUserMaxBytes int64 = 32 << 20
)

var kvKey = regexp.MustCompile(`^[A-Za-z0-9._~:-]+(/[A-Za-z0-9._~:-]+)*$`)

// kvScope resolves the {scope} of a KV route for the caller: "user" is the
// caller's own space; "team:<id or name>" a team's, which members read and
// the team's admins (or, if the manifest of the version the team serves
// says so, members) write. A team's keys exist only where the team serves
// the plugin (teamVersion), a user's only while one of their teams does:
// the plugin's code runs nowhere else, so nothing else may write as it.
func (s *Server) kvScope(r *http.Request, pluginID string, write bool) (string, error) {
	who := caller(r)
	scope := chi.URLParam(r, "scope")
	if scope == "user" {
		teams := make([]string, 0, len(who.Members))
		for tid := range who.Members {
			teams = append(teams, tid)
		}
		sort.Strings(teams)
		if _, _, err := s.servesAny(r.Context(), teams, pluginID); err != nil {
			return "", err
		}
		return "user:" + who.User.ID, nil
	}
	teamRef, ok := strings.CutPrefix(scope, "team:")
	if !ok || teamRef == "" {
		return "", errorf(http.StatusBadRequest, CodeKvScopeInvalid,
			"scope %q: use \"user\" for your own keys or \"team:<team id or name>\"", scope)
	}
	t, err := s.identity.Team(r.Context(), who, teamRef)
	if err != nil {
		return "", err
	}
	if !who.CanAccessTeam(t.ID) {
		return "", errorf(http.StatusForbidden, CodeNotTeamMember,
			"you are not a member of team %s: ask a team admin to add you", t.Name)
	}
	v, err := s.teamVersion(r.Context(), t.ID, pluginID)
	if err != nil {
		return "", err
	}
	if write && !who.CanAdminTeam(t.ID) && !v.Manifest.TeamMembersWrite() {
		return "", errorf(http.StatusForbidden, CodeNotTeamAdmin,
			"only admins of team %s write this plugin's team keys (%s %s, the version the team serves, does not let members: its manifest can, with \"kv\": {\"team_write\": \"members\"})", t.Name, v.PluginID, v.Version)
	}
	return "team:" + t.ID, nil
}

func (s *Server) kvTarget(w http.ResponseWriter, r *http.Request, write bool) (pluginID, scope, key string, ok bool) {
	pluginID = chi.URLParam(r, "id")
	if _, err := s.store.Plugin(r.Context(), pluginID); err != nil {
		s.writeError(w, r, err)
		return "", "", "", false
	}
	scope, err := s.kvScope(r, pluginID, write)
	if err != nil {
		s.writeError(w, r, err)
		return "", "", "", false
	}
	key = chi.URLParam(r, "*")
	if key != "" && (len(key) > kvMaxKeySize || !kvKey.MatchString(key) || strings.Contains(key, "..")) {
		s.writeError(w, r, errorf(http.StatusBadRequest, CodeKvKeyInvalid,
			"key %q: use at most %d characters of letters, digits and . _ ~ : - in /-separated segments", key, kvMaxKeySize))
		return "", "", "", false
	}
	return pluginID, scope, key, true
}

type kvEntryJSON struct {
	Key       string          `json:"key"`
	Value     json.RawMessage `json:"value"`
	Rev       uint64          `json:"rev"`
	UpdatedBy string          `json:"updated_by"`
	UpdatedAt string          `json:"updated_at"`
}

func kvJSON(e registry.KVEntry) kvEntryJSON {
	return kvEntryJSON{Key: e.Key, Value: e.Value, Rev: e.Rev, UpdatedBy: e.UpdatedBy, UpdatedAt: e.UpdatedAt.UTC().Format("2006-01-02T15:04:05.000Z")}
}

func etagOfRev(rev uint64) string { return `"` + strconv.FormatUint(rev, 10) + `"` }

// serveKVList is GET /api/v1/plugins/{id}/kv/{scope}?prefix=&after=&limit=.
func (s *Server) serveKVList(w http.ResponseWriter, r *http.Request) {
	pluginID, scope, _, ok := s.kvTarget(w, r, false)
	if !ok {
		return
	}
	q := r.URL.Query()
	limit, _ := strconv.Atoi(q.Get("limit"))
	if limit <= 0 || limit > 200 {
		limit = 200
	}
	entries, err := s.store.KVList(r.Context(), pluginID, scope, q.Get("prefix"), q.Get("after"), limit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make([]kvEntryJSON, len(entries))
	next := ""
	for i, e := range entries {
		out[i] = kvJSON(e)
	}
	if len(entries) == limit {
		next = entries[len(entries)-1].Key
	}
	writeJSON(w, http.StatusOK, map[string]any{"entries": out, "next_after": next})
}

// serveKV is GET, PUT and DELETE of /api/v1/plugins/{id}/kv/{scope}/{key}.
// PUT's body is the JSON value. If-Match: "<rev>" makes PUT and DELETE a
// compare-and-set; If-None-Match: * makes PUT create-only.
func (s *Server) serveKV(w http.ResponseWriter, r *http.Request) {
	write := r.Method != http.MethodGet
	pluginID, scope, key, ok := s.kvTarget(w, r, write)
	if !ok {
		return
	}
	if key == "" {
		s.writeError(w, r, errorf(http.StatusBadRequest, CodeKvKeyInvalid, "name a key: /api/v1/plugins/{id}/kv/{scope}/{key}"))
		return
	}
	ifRev, err := kvPrecondition(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	switch r.Method {
	case http.MethodGet:
		e, err := s.store.KVGet(r.Context(), pluginID, scope, key)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		w.Header().Set("ETag", etagOfRev(e.Rev))
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Content-Type", "application/json")
		w.Write(e.Value)
	case http.MethodPut:
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, kvMaxValue))
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			s.writeError(w, r, errorf(http.StatusRequestEntityTooLarge, CodeKvValueTooLarge,
				"a value is at most %d KiB: split it over several keys", kvMaxValue>>10))
			return
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if !json.Valid(body) {
			s.writeError(w, r, errorf(http.StatusBadRequest, CodeKvValueNotJson, "the value must be JSON (a string, number, object, ...)"))
			return
		}
		e, err := s.store.KVPut(r.Context(), registry.KVWrite{PluginID: pluginID, Scope: scope, Key: key,
			Value: body, IfRev: ifRev, Actor: caller(r).User.ID, MaxKeys: kvMaxKeys,
			MaxActorKeys: kvUserMaxKeys, MaxActorBytes: kvUserMaxBytes})
		if errors.Is(err, registry.ErrKVQuota) {
			s.writeError(w, r, errorf(http.StatusConflict, CodeKvQuotaExceeded,
				"your values in the KV store, over every plugin and scope, would pass %d keys or %d MiB: delete keys you no longer need", kvUserMaxKeys, kvUserMaxBytes>>20))
			return
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		w.Header().Set("ETag", etagOfRev(e.Rev))
		writeJSON(w, http.StatusOK, kvJSON(e))
	case http.MethodDelete:
		err := s.store.KVDelete(r.Context(), registry.KVWrite{PluginID: pluginID, Scope: scope, Key: key, IfRev: ifRev, Actor: caller(r).User.ID})
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
}

func kvPrecondition(r *http.Request) (*uint64, error) {
	if im := r.Header.Get("If-Match"); im != "" {
		rev, err := strconv.ParseUint(strings.Trim(strings.TrimPrefix(strings.TrimSpace(im), "W/"), `"`), 10, 64)
		if err != nil || rev == 0 {
			return nil, errorf(http.StatusBadRequest, CodeKvPreconditionInvalid,
				`If-Match must be the "rev" of the value as its ETag gave it, e.g. If-Match: "12"`)
		}
		return &rev, nil
	}
	if strings.TrimSpace(r.Header.Get("If-None-Match")) == "*" {
		zero := uint64(0)
		return &zero, nil
	}
	return nil, nil
}
