// Package admin measures the server time of the admin console and the
// plugin directory on a large registry: 500 plugins with 10 versions each
// (5,000 versions) and 200 teams, each with 25 plugins enabled and some
// pinned, in a real bbolt file. Requests go through the whole server
// (router, authentication, registry reads, templ rendering) with
// httptest.ResponseRecorder: no network, so the figures are server time.
//
//	go test -run '^$' -bench . -benchtime 200x ./bench/admin/
//
// Goals (issue 6): each page under 20 ms.
package admin

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	apiv4proxy "github.com/mmtoolkit/mmtoolkit/apiv4-proxy"
	"github.com/mmtoolkit/mmtoolkit/bundler/pluginpkg"
	"github.com/mmtoolkit/mmtoolkit/identity"
	"github.com/mmtoolkit/mmtoolkit/registry"
	"github.com/mmtoolkit/mmtoolkit/registry/registrytest"
	"github.com/mmtoolkit/mmtoolkit/server"
)

const (
	teams          = 200
	enabledPerTeam = 25
	token          = "bench-admin-token"
)

// fakeIdentity is a Mattermost with 200 teams and one system admin.
type fakeIdentity struct {
	teams map[string]identity.Team
	admin *identity.Identity
}

func newIdentity() *fakeIdentity {
	id := &fakeIdentity{teams: map[string]identity.Team{}}
	for i := range teams {
		t := identity.Team{ID: teamID(i), Name: fmt.Sprintf("team-%03d", i), DisplayName: fmt.Sprintf("Team %03d", i)}
		id.teams[t.ID] = t
	}
	id.admin = &identity.Identity{User: identity.User{ID: "u-admin", Username: "admin", Roles: "system_user system_admin"},
		Members: map[string]identity.TeamMember{}, Teams: map[string]identity.Team{}, Token: token}
	return id
}

func teamID(i int) string { return fmt.Sprintf("team%022d", i) }

func (id *fakeIdentity) Authenticate(ctx context.Context, tok string) (*identity.Identity, error) {
	if tok != token {
		return nil, apiv4proxy.ErrInvalidToken
	}
	return id.admin, nil
}

func (id *fakeIdentity) Team(ctx context.Context, who *identity.Identity, idOrName string) (*identity.Team, error) {
	if t, ok := id.teams[idOrName]; ok {
		return &t, nil
	}
	for _, t := range id.teams {
		if t.Name == idOrName {
			return &t, nil
		}
	}
	return nil, apiv4proxy.ErrTeamNotFound
}

func (id *fakeIdentity) ChannelMembers(ctx context.Context, who *identity.Identity, channelID string) (*identity.Channel, []string, error) {
	return nil, nil, apiv4proxy.ErrChannelNotFound
}

// Teams lets the console list every team for the system admin.
func (id *fakeIdentity) Teams(ctx context.Context) ([]identity.Team, error) {
	out := make([]identity.Team, 0, len(id.teams))
	for _, t := range id.teams {
		out = append(out, t)
	}
	return out, nil
}

var words = strings.Fields("map video poll survey calendar standup jira github gitlab weather translate giphy todo reminder " +
	"incident release deploy metrics alerts notes wiki docs chat bot zoom meet draw board vote")

// seed fills a store with plugins x versions and the teams' states.
func seed(b *testing.B, plugins, versions int) *registry.Bolt {
	b.Helper()
	store := registrytest.Open(b)
	ctx := context.Background()
	by := registry.Pusher{UserID: "u-dev"}
	for p := range plugins {
		id := fmt.Sprintf("com.example.p%04d", p)
		for v := range versions {
			ver, blobs := registrytest.Version(id, fmt.Sprintf("1.%d.0", v))
			ver.Manifest.Name = fmt.Sprintf("%s %s %d", strings.ToUpper(words[p%len(words)][:1])+words[p%len(words)][1:], words[(p/7)%len(words)], p)
			ver.Manifest.Description = fmt.Sprintf("The %s plugin brings %s and %s to every channel: post cards, a call button, "+
				"a right-hand sidebar and slash commands, in the webapp and on mobile. Version %d.", words[p%len(words)],
				words[(p*3)%len(words)], words[(p*5)%len(words)], v)
			ver.Manifest.Slots = []pluginpkg.SlotDecl{{Slot: "post_type", PostType: fmt.Sprintf("custom_p%d", p)}, {Slot: []string{"call_button", "app_bar", "root", "main_menu"}[p%4]}}
			if _, err := store.PutVersion(ctx, ver, blobs, by); err != nil {
				b.Fatal(err)
			}
		}
	}
	for t := range teams {
		for k := range min(enabledPerTeam, plugins) {
			st := registry.TeamState{TeamID: teamID(t), PluginID: fmt.Sprintf("com.example.p%04d", (t*7+k*13)%plugins), Enabled: true, UpdatedBy: "u-admin"}
			if k%5 == 0 && versions > 1 {
				st.Version = "1.0.0"
			}
			if _, err := store.SetTeamState(ctx, st); err != nil {
				b.Fatal(err)
			}
		}
	}
	return store
}

func newServer(b *testing.B, store *registry.Bolt) *server.Server {
	b.Helper()
	srv, err := server.New(store, newIdentity(), server.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(srv.Close)
	return srv
}

// get serves one request and checks it succeeded.
func get(b *testing.B, h http.Handler, method, path string, body string) int {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.AddCookie(&http.Cookie{Name: "MMAUTHTOKEN", Value: token})
	if body != "" {
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != http.StatusOK {
		b.Fatalf("%s %s: %d %s", method, path, w.Code, w.Body.String()[:min(500, w.Body.Len())])
	}
	return w.Body.Len()
}

func bench(b *testing.B, h http.Handler, path string) {
	n := get(b, h, "GET", path, "") // warm: the catalogue snapshot
	b.SetBytes(int64(n))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		get(b, h, "GET", path, "")
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/page")
}

// afterPush measures the first page after a push (not timed: the push
// itself, a small plugin compiled by esbuild): the catalogue snapshot is
// rebuilt then, reading only the version that changed.
var pushes int

func afterPush(b *testing.B, srv http.Handler, path string) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		var buf bytes.Buffer
		pushes++
		ver := fmt.Sprintf("2.0.%d", pushes)
		err := pluginpkg.WriteArchive(&buf, map[string][]byte{
			"plugin.json":     []byte(`{"id":"com.example.pushed","name":"Pushed weather","version":"` + ver + `","description":"pushed during the benchmark","webapp":{"entry":"webapp/index.js"}}`),
			"webapp/index.js": []byte(`window.registerPlugin("com.example.pushed", {initialize() {}});`),
		})
		if err != nil {
			b.Fatal(err)
		}
		req := httptest.NewRequest("POST", "/api/v1/plugins", &buf)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/gzip")
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)
		if w.Code != http.StatusCreated {
			b.Fatalf("push %s: %d %s", ver, w.Code, w.Body)
		}
		b.StartTimer()
		get(b, srv, "GET", path, "")
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/page")
}

func BenchmarkAdmin(b *testing.B) {
	srv := newServer(b, seed(b, 500, 10))
	b.Run("team-page-500-plugins", func(b *testing.B) { bench(b, srv, "/admin/teams/team-042") })
	b.Run("plugin-page-10-versions-200-teams", func(b *testing.B) { bench(b, srv, "/admin/plugins/com.example.p0250") })
	b.Run("index-200-teams-500-plugins", func(b *testing.B) { bench(b, srv, "/admin") })
	b.Run("audit-filtered", func(b *testing.B) { bench(b, srv, "/admin/audit?team=team-042&person=u-admin") })
	b.Run("directory-search-500-plugins-5000-versions", func(b *testing.B) { bench(b, srv, "/directory?q=video&slot=post_type") })
	// After a change the first page rebuilds the catalogue snapshot: a
	// toggle (PUT through the API) then the team page, each iteration.
	b.Run("team-page-after-a-toggle", func(b *testing.B) {
		b.ReportAllocs()
		on := false
		for b.Loop() {
			on = !on
			get(b, srv, "PUT", "/api/v1/teams/team-042/plugins/com.example.p0001", fmt.Sprintf(`{"enabled":%v}`, on))
			get(b, srv, "GET", "/admin/teams/team-042", "")
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/op")
	})
	b.Run("team-page-after-a-push", func(b *testing.B) { afterPush(b, srv, "/admin/teams/team-042") })
	b.Run("toggle-only", func(b *testing.B) {
		b.ReportAllocs()
		on := false
		for b.Loop() {
			on = !on
			get(b, srv, "PUT", "/api/v1/teams/team-042/plugins/com.example.p0001", fmt.Sprintf(`{"enabled":%v}`, on))
		}
		b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/op")
	})
}

// BenchmarkDirectory5000 searches a directory of 5,000 plugins (one
// version each): every version is a directory entry.
func BenchmarkDirectory5000(b *testing.B) {
	srv := newServer(b, seed(b, 5000, 1))
	b.Run("search-word", func(b *testing.B) { bench(b, srv, "/directory?q=weather") })
	b.Run("search-two-words-slot-certification", func(b *testing.B) {
		bench(b, srv, "/directory?q=calendar+slash&slot=call_button&certification=unverified")
	})
	b.Run("search-after-a-push", func(b *testing.B) { afterPush(b, srv, "/directory?q=weather") })
	b.Run("no-match", func(b *testing.B) { bench(b, srv, "/directory?q=zzzz") })
	b.Run("all-page-40", func(b *testing.B) { bench(b, srv, "/directory?page=40") })
}
