package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/mmtoolkit/mmtoolkit/apiv4-proxy/mattermosttest"
	"github.com/mmtoolkit/mmtoolkit/server"
)

// mmSocket is Mattermost's webapp's websocket through mmtoolkit: it reads
// events and checks their numbers as @mattermost/client's WebSocketClient
// does (each event's seq must be the next one, else the client
// reconnects).
type mmSocket struct {
	t    *testing.T
	c    *websocket.Conn
	next int64
}

func (f *fronting) openSocket(user string) *mmSocket {
	f.t.Helper()
	t := f.t.(*testing.T)
	h := http.Header{"Cookie": {"MMAUTHTOKEN=" + f.tokens[user]}}
	c, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(f.url, "http")+"/api/v4/websocket", h)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("websocket through mmtoolkit: %v (%d)", err, status)
	}
	t.Cleanup(func() { c.Close() })
	s := &mmSocket{t: t, c: c}
	if ev := s.event(); ev.Event != "hello" {
		t.Fatalf("first event %s, want hello", ev.raw)
	}
	return s
}

type mmEvent struct {
	Event string `json:"event"`
	Data  struct {
		Manifest json.RawMessage `json:"manifest"`
	} `json:"data"`
	Seq      *int64 `json:"seq"`
	SeqReply int64  `json:"seq_reply"`
	raw      []byte
}

func (e mmEvent) plugin() string {
	var m struct{ ID, Version string }
	json.Unmarshal(e.Data.Manifest, &m)
	return m.ID
}

// event reads the next event, skipping replies, and checks its number.
func (s *mmSocket) event() mmEvent {
	s.t.Helper()
	for {
		s.c.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, b, err := s.c.ReadMessage()
		if err != nil {
			s.t.Fatalf("read: %v", err)
		}
		var ev mmEvent
		if err := json.Unmarshal(b, &ev); err != nil {
			s.t.Fatalf("%s: %v", b, err)
		}
		ev.raw = b
		if ev.SeqReply != 0 {
			continue
		}
		if ev.Seq == nil || *ev.Seq != s.next {
			s.t.Fatalf("event %s out of sequence: want seq %d (the webapp would reconnect)", b, s.next)
		}
		s.next++
		return ev
	}
}

// pluginEvents reads n plugin events and returns them as "enabled:id" /
// "disabled:id", sorted.
func (s *mmSocket) pluginEvents(n int) []string {
	s.t.Helper()
	var out []string
	for len(out) < n {
		ev := s.event()
		switch ev.Event {
		case "plugin_enabled", "plugin_disabled":
			out = append(out, strings.TrimPrefix(ev.Event, "plugin_")+":"+ev.plugin())
		default:
			s.t.Fatalf("got %s, want a plugin event", ev.raw)
		}
	}
	sort.Strings(out)
	return out
}

func (s *mmSocket) send(action string, data any) {
	s.t.Helper()
	if err := s.c.WriteJSON(map[string]any{"action": action, "seq": 1, "data": data}); err != nil {
		s.t.Fatal(err)
	}
}

func want(t *testing.T, got []string, want ...string) {
	t.Helper()
	sort.Strings(want)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("plugin events %v, want %v", got, want)
	}
}

// newPluginSocketsEnv: onlyalpha enabled in alpha, onlybeta in beta, both
// in both; alice is on alpha and beta.
func newPluginSocketsEnv(t *testing.T) *fronting {
	f := newFronting(t, server.Config{})
	f.mm.EnableWebsocket()
	f.pushEnable("onlyalpha", "1.0.0", f.alpha.ID)
	f.pushEnable("onlybeta", "1.0.0", f.beta.ID)
	f.pushEnable("both", "1.0.0", f.alpha.ID, f.beta.ID)
	return f
}

func TestTeamSwitchSendsPluginEventsInSequence(t *testing.T) {
	t.Parallel()
	f := newPluginSocketsEnv(t)
	s := f.openSocket("alice")
	// Nothing said yet: alice is on her first team, alpha. The page may
	// have loaded anything: the socket gets the whole state.
	want(t, s.pluginEvents(3), "disabled:onlybeta", "enabled:both", "enabled:onlyalpha")

	// The team sidebar's updateActiveTeam: beta's plugins come, alpha's
	// go, both stays (the same manifest), on the same connection.
	s.send("presence", map[string]string{"team_id": f.beta.ID})
	want(t, s.pluginEvents(2), "disabled:onlyalpha", "enabled:onlybeta")

	// The first load after that serves beta: the session's last team.
	r := f.do("alice", "GET", "/api/v4/plugins/webapp", "", nil)
	got := entries(t, r.body)
	if _, ok := got["onlybeta"]; !ok || got["onlyalpha"] != "" {
		t.Fatalf("plugins/webapp after the switch: %s", r.body)
	}
	// A new session of alice's (she logs in again) starts where her last
	// session was, as the webapp reopens the team it showed last.
	f.tokens["alice-again"] = f.mm.Token(f.alice)
	r = f.do("alice-again", "GET", "/api/v4/plugins/webapp", "", nil)
	if got := entries(t, r.body); got["onlybeta"] == "" || got["onlyalpha"] != "" {
		t.Fatalf("plugins/webapp for alice's new session: %s", r.body)
	}

	// Viewing a channel of alpha switches back.
	ch := f.mm.AddChannel(f.alpha.ID, "town-square", f.alice.ID)
	if r := f.do("alice", "POST", "/api/v4/channels/members/me/view", "application/json",
		strings.NewReader(`{"channel_id":"`+ch.ID+`","collapsed_threads_supported":true}`)); r.status != 200 {
		t.Fatalf("view: %d %s", r.status, r.body)
	}
	want(t, s.pluginEvents(2), "disabled:onlybeta", "enabled:onlyalpha")
}

func TestPluginEventsCarryTheMergedListsManifest(t *testing.T) {
	t.Parallel()
	f := newPluginSocketsEnv(t)
	s := f.openSocket("alice")
	s.pluginEvents(3)
	s.send("presence", map[string]string{"team_id": f.beta.ID})
	var enabled mmEvent
	for range 2 {
		if ev := s.event(); ev.Event == "plugin_enabled" {
			enabled = ev
		}
	}
	list := entries(t, f.do("alice", "GET", "/api/v4/plugins/webapp", "", nil).body)
	if string(enabled.Data.Manifest) != list["onlybeta"] {
		t.Fatalf("plugin_enabled manifest\n%s\nwant the merged list's entry\n%s", enabled.Data.Manifest, list["onlybeta"])
	}
	// Mattermost's shape: {"event","data":{"manifest"},"broadcast":{...},"seq"}.
	shape := regexp.MustCompile(`^\{"event":"plugin_enabled","data":\{"manifest":\{.*\}\},"broadcast":\{"omit_users":null,"user_id":"","channel_id":"","team_id":"","connection_id":"","omit_connection_id":""\},"seq":\d+\}$`)
	if !shape.Match(enabled.raw) {
		t.Fatalf("not Mattermost's shape: %s", enabled.raw)
	}
}

func TestAdminToggleReachesOnlyTheTeamsSessions(t *testing.T) {
	t.Parallel()
	f := newPluginSocketsEnv(t)
	alice := f.openSocket("alice") // on alpha
	alice.pluginEvents(3)
	bob := f.openSocket("bob") // on beta, his only team
	want(t, bob.pluginEvents(2), "enabled:both", "enabled:onlybeta")

	f.pushEnable("late", "1.0.0", f.beta.ID)
	want(t, bob.pluginEvents(1), "enabled:late")
	if r := f.do("admin", "PUT", "/api/v1/teams/"+f.beta.ID+"/plugins/onlybeta", "application/json",
		strings.NewReader(`{"enabled":false}`)); r.status != 200 {
		t.Fatal(r.status, string(r.body))
	}
	want(t, bob.pluginEvents(1), "disabled:onlybeta")

	// alice's next events are about alpha: beta's changes never reached her.
	if r := f.do("admin", "PUT", "/api/v1/teams/"+f.alpha.ID+"/plugins/onlyalpha", "application/json",
		strings.NewReader(`{"enabled":false}`)); r.status != 200 {
		t.Fatal(r.status, string(r.body))
	}
	want(t, alice.pluginEvents(1), "disabled:onlyalpha")
}

func TestUpstreamPluginEventsPassUntouched(t *testing.T) {
	t.Parallel()
	f := newPluginSocketsEnv(t)
	s := f.openSocket("bob")
	s.pluginEvents(2)
	installUpstream(f.mm, "calls", "1.2.0")
	ev := s.event()
	if ev.Event != "plugin_enabled" || ev.plugin() != "calls" {
		t.Fatalf("got %s, want Mattermost's plugin_enabled for calls", ev.raw)
	}
	// Byte for byte as the stand-in sent it, but for its number in the
	// client's sequence.
	p, _ := f.mm.Plugin("calls")
	m, _ := json.Marshal(map[string]any{"manifest": p.ClientManifest()})
	wantRaw := `{"event": "plugin_enabled", "data": ` + string(m) + `, "broadcast": {"omit_users":null,"user_id":"","channel_id":"","team_id":"","connection_id":"","omit_connection_id":""}, "seq": `
	if !strings.HasPrefix(string(ev.raw), wantRaw) {
		t.Fatalf("relayed\n%s\nwant Mattermost's bytes\n%s...", ev.raw, wantRaw)
	}
	if !strings.Contains(string(ev.raw), `"settings_schema"`) {
		t.Fatal("Mattermost's plugin_enabled keeps settings_schema")
	}
	var _ mattermosttest.Plugin
}

// pluginVersion is the plugin id and version of a plugin event.
func (e mmEvent) pluginVersion() string {
	var m struct{ ID, Version string }
	json.Unmarshal(e.Data.Manifest, &m)
	return e.Event + ":" + m.ID + "@" + m.Version
}

func TestConflictKeepsTheRulesEntryOnTheSocket(t *testing.T) {
	t.Parallel()
	f := newPluginSocketsEnv(t) // --plugin-conflict=mmtoolkit, the default
	s := f.openSocket("bob")    // beta: onlybeta and both are mmtoolkit's
	s.pluginEvents(2)

	// Mattermost installs its own onlybeta: the team's copy, which the
	// rule keeps, goes in its event's place
	// (TestUpstreamEventForAKeptIDCarriesTheTeamsCopy).
	installUpstream(f.mm, "onlybeta", "9.0.0")
	if got := s.event().pluginVersion(); got != "plugin_enabled:onlybeta@1.0.0" {
		t.Fatalf("got %s, want the team's copy", got)
	}

	// The team disables its copy: the webapp gets Mattermost's entry back,
	// not a plugin_disabled that would remove the plugin Mattermost runs.
	if r := f.do("admin", "PUT", "/api/v1/teams/"+f.beta.ID+"/plugins/onlybeta", "application/json",
		strings.NewReader(`{"enabled":false}`)); r.status != 200 {
		t.Fatal(r.status, string(r.body))
	}
	ev := s.event()
	if got := ev.pluginVersion(); got != "plugin_enabled:onlybeta@9.0.0" {
		t.Fatalf("after the team disabled its copy: %s, want Mattermost's entry", got)
	}
	if list := entries(t, f.upstreamList()); string(ev.Data.Manifest) != list["onlybeta"] {
		t.Fatalf("Mattermost's entry sent as\n%s\nwant as Mattermost lists it\n%s", ev.Data.Manifest, list["onlybeta"])
	}
}

func TestANewVersionReachesTheTeamsSessions(t *testing.T) {
	t.Parallel()
	f := newPluginSocketsEnv(t)
	s := f.openSocket("bob") // beta follows the latest onlybeta
	s.pluginEvents(2)
	f.pushEnable("onlybeta", "1.1.0")
	// The webapp loads a manifest with another bundle_path as an upgrade.
	if got := s.event().pluginVersion(); got != "plugin_enabled:onlybeta@1.1.0" {
		t.Fatalf("after a push: %s, want the new version enabled", got)
	}
}

func TestManyPluginsReachANewSocketWhole(t *testing.T) {
	t.Parallel()
	f := newFronting(t, server.Config{})
	f.mm.EnableWebsocket()
	const n = 70 // more events than a socket's queue has slots
	want := []string{}
	for i := range n {
		id := fmt.Sprintf("plugin%02d", i)
		f.pushEnable(id, "1.0.0", f.beta.ID)
		want = append(want, "enabled:"+id)
	}
	s := f.openSocket("bob")
	got := s.pluginEvents(n)
	sort.Strings(want)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("got %v", got)
	}
}

// TestPreviewInMattermostsOwnWebapp: a developer previewing a prerelease
// (push --watch) in Mattermost's own webapp, fronted, gets it in their
// merged plugin list and on their relayed socket, live; another member of
// the team keeps the release, on both; when the preview ends the developer
// gets the team's version back.
func TestPreviewInMattermostsOwnWebapp(t *testing.T) {
	t.Parallel()
	f := newFronting(t, server.Config{})
	f.mm.EnableWebsocket()
	for _, v := range []string{"1.0.0", devV1} {
		if r := f.push("alice", helloPlugin(helloID, v)); r.status != 201 {
			t.Fatalf("push %s: %d %s", v, r.status, r.body)
		}
	}
	if r := f.do("alice", "PUT", "/api/v1/teams/"+f.alpha.ID+"/plugins/"+helloID, "application/json", strings.NewReader(`{"enabled":true}`)); r.status != 200 {
		t.Fatalf("enable: %d %s", r.status, r.body)
	}
	listed := func(user string) string {
		t.Helper()
		r := f.do(user, "GET", "/api/v4/plugins/webapp?team="+f.alpha.ID, "", nil)
		var m struct{ Version string }
		json.Unmarshal([]byte(entries(t, r.body)[helloID]), &m)
		return m.Version
	}
	alice, admin := f.openSocket("alice"), f.openSocket("admin") // both show alpha
	for name, s := range map[string]*mmSocket{"alice": alice, "admin": admin} {
		if got := s.event().pluginVersion(); got != "plugin_enabled:"+helloID+"@1.0.0" {
			t.Fatalf("%s's socket opened with %s, want the release", name, got)
		}
	}
	if a, b := listed("alice"), listed("admin"); a != "1.0.0" || b != "1.0.0" {
		t.Fatalf("before the preview: alice's list has %q, admin's %q; want 1.0.0", a, b)
	}

	if r := f.preview("alice", devV1, 0); r.status != 200 {
		t.Fatalf("preview: %d %s", r.status, r.body)
	}
	if got := alice.event().pluginVersion(); got != "plugin_enabled:"+helloID+"@"+devV1 {
		t.Fatalf("alice's socket got %s at the preview's start, want the preview", got)
	}
	if a, b := listed("alice"), listed("admin"); a != devV1 || b != "1.0.0" {
		t.Fatalf("during the preview: alice's list has %q (want %s), admin's %q (want 1.0.0)", a, devV1, b)
	}
	// A release during the preview: the team's sessions get it; the
	// developer keeps the preview (admin's next event is the release, so
	// the preview never reached admin's socket).
	if r := f.push("alice", helloPlugin(helloID, "1.1.0")); r.status != 201 {
		t.Fatalf("push 1.1.0: %d %s", r.status, r.body)
	}
	if got := admin.event().pluginVersion(); got != "plugin_enabled:"+helloID+"@1.1.0" {
		t.Fatalf("admin's socket got %s, want the new release", got)
	}
	if a := listed("alice"); a != devV1 {
		t.Fatalf("after a release during the preview alice's list has %q, want the preview", a)
	}

	if r := f.do("alice", "DELETE", "/api/v1/plugins/"+helloID+"/preview", "", nil); r.status != 204 {
		t.Fatalf("end the preview: %d %s", r.status, r.body)
	}
	if got := alice.event().pluginVersion(); got != "plugin_enabled:"+helloID+"@1.1.0" {
		t.Fatalf("alice's socket got %s at the preview's end, want the team's release", got)
	}
	if a := listed("alice"); a != "1.1.0" {
		t.Fatalf("after the preview alice's list has %q, want 1.1.0", a)
	}
}
