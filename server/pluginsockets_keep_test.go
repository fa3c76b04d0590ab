package server_test

import (
	"sort"
	"strings"
	"testing"

	"github.com/mmtoolkit/mmtoolkit/apiv4-proxy/mattermosttest"
	"github.com/mmtoolkit/mmtoolkit/server"
)

// TestUpstreamEventForAKeptIDCarriesTheTeamsCopy: with
// --plugin-conflict=mmtoolkit, one of Mattermost's plugin events for an id
// the session's team serves from mmtoolkit reaches the webapp as the
// team's plugin_enabled, in its place in the sequence. Passed as
// Mattermost sent it, then followed by the team's copy, the webapp would
// load both bundles at once (its loadPlugin appends a second script
// without stopping the first) and keep whichever arrived last: with
// Mattermost's bundle fetched through the proxy, often Mattermost's.
func TestUpstreamEventForAKeptIDCarriesTheTeamsCopy(t *testing.T) {
	t.Parallel()
	f := newPluginSocketsEnv(t) // --plugin-conflict=mmtoolkit, the default
	s := f.openSocket("bob")    // beta: onlybeta and both are mmtoolkit's
	s.pluginEvents(2)

	steps := []struct {
		name   string
		change func()
	}{
		{"Mattermost installs its own onlybeta", func() { installUpstream(f.mm, "onlybeta", "9.0.0") }},
		{"Mattermost disables it", func() { f.mm.SetPluginEnabled("onlybeta", false) }},
		{"Mattermost enables it again", func() { f.mm.SetPluginEnabled("onlybeta", true) }},
	}
	for _, st := range steps {
		st.change()
		if got := s.event().pluginVersion(); got != "plugin_enabled:onlybeta@1.0.0" {
			t.Fatalf("%s: the webapp got %s, want the team's copy in its place", st.name, got)
		}
		// Nothing more for onlybeta: the next event is Mattermost's next.
		f.mm.BroadcastEvent("posted", map[string]any{"post": `{"id":"p"}`}, mattermosttest.Broadcast{})
		if ev := s.event(); ev.Event != "posted" {
			t.Fatalf("%s: then %s, want Mattermost's next event", st.name, ev.raw)
		}
	}

	// The team disables its copy: Mattermost's entry, as before.
	if r := f.do("admin", "PUT", "/api/v1/teams/"+f.beta.ID+"/plugins/onlybeta", "application/json",
		strings.NewReader(`{"enabled":false}`)); r.status != 200 {
		t.Fatal(r.status, string(r.body))
	}
	if got := s.event().pluginVersion(); got != "plugin_enabled:onlybeta@9.0.0" {
		t.Fatalf("after the team disabled its copy: %s, want Mattermost's entry", got)
	}
	// Now Mattermost's own events for it pass as they are.
	f.mm.SetPluginEnabled("onlybeta", false)
	if got := s.event().pluginVersion(); got != "plugin_disabled:onlybeta@9.0.0" {
		t.Fatalf("Mattermost's event once the team's copy is off: %s", got)
	}
}

// TestASocketOpenedBeforeAnyListKnowsMattermostsPlugins: a socket that
// opens before mmtoolkit has read Mattermost's plugin list (after a
// restart every webapp reconnects first; a page may open its socket
// before its list answers) is told about an id on both sides by the rule,
// not as if Mattermost did not have it.
func TestASocketOpenedBeforeAnyListKnowsMattermostsPlugins(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		rule server.PluginConflict
		user string
		want []string
	}{
		// bob is on beta, which keeps onlybeta: Mattermost's copy wins.
		{server.ConflictUpstream, "bob", []string{"enabled:both"}},
		// alice opens on alpha; beta's onlybeta is not alpha's, but
		// Mattermost runs it: its entry, not plugin_disabled.
		{server.ConflictMmtoolkit, "alice", []string{"enabled:onlybeta@9.0.0", "enabled:both", "enabled:onlyalpha"}},
	} {
		t.Run(string(tc.rule), func(t *testing.T) {
			t.Parallel()
			f := newFronting(t, server.Config{PluginConflict: tc.rule})
			f.mm.EnableWebsocket()
			f.pushEnable("onlyalpha", "1.0.0", f.alpha.ID)
			f.pushEnable("onlybeta", "1.0.0", f.beta.ID)
			f.pushEnable("both", "1.0.0", f.alpha.ID, f.beta.ID)
			installUpstream(f.mm, "onlybeta", "9.0.0")
			s := f.openSocket(tc.user)
			var got []string
			for range tc.want {
				ev := s.event()
				e := strings.TrimPrefix(ev.Event, "plugin_") + ":" + ev.plugin()
				if ev.plugin() == "onlybeta" {
					e = strings.TrimPrefix(ev.pluginVersion(), "plugin_")
				}
				got = append(got, e)
			}
			sort.Strings(got)
			want := append([]string(nil), tc.want...)
			sort.Strings(want)
			if strings.Join(got, " ") != strings.Join(want, " ") {
				t.Fatalf("socket opened: %v, want %v", got, want)
			}
			// Nothing more: the next event is Mattermost's next.
			f.mm.BroadcastEvent("posted", map[string]any{"post": `{"id":"p"}`}, mattermosttest.Broadcast{})
			if ev := s.event(); ev.Event != "posted" {
				t.Fatalf("then %s, want Mattermost's next event", ev.raw)
			}
		})
	}
}
