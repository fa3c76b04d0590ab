package apiv4proxy

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/mmtoolkit/mmtoolkit/apiv4-proxy/mattermosttest"
)

// rewriter is a recorder that replaces upstream's plugin events for one
// id, as the server does for a plugin the session's team keeps.
type rewriter struct {
	*recorder
	id string
}

func (r rewriter) RewriteEvent(s *Socket, event string, msg []byte) []byte {
	var ev struct {
		Data struct {
			Manifest struct {
				ID string `json:"id"`
			} `json:"manifest"`
		} `json:"data"`
		Seq int64 `json:"seq"`
	}
	if json.Unmarshal(msg, &ev) != nil || ev.Data.Manifest.ID != r.id {
		return nil
	}
	b, _ := json.Marshal(map[string]any{"event": "plugin_enabled", "data": map[string]any{"manifest": map[string]any{"id": r.id, "version": "team"}}, "seq": ev.Seq})
	return b
}

func TestRelayRewritesPluginEventsItIsAskedTo(t *testing.T) {
	e := newMMEnv(t)
	e.proxy.Sockets().SetObserver(rewriter{recorder: e.obs, id: "kept"})
	c := e.dial(t, "")
	expectEvent(t, c, "hello", 0)
	s := receive(t, e.obs.opened, "SocketOpened")
	s.Inject([]byte(`{"event":"plugin_enabled","data":{"manifest":{"id":"added"}},"broadcast":{}}`))
	expectEvent(t, c, "plugin_enabled", 1)

	// The rewritten event takes upstream's place in the client's sequence;
	// the observer is shown upstream's own message.
	e.mm.BroadcastEvent("plugin_disabled", map[string]any{"manifest": map[string]any{"id": "kept"}}, mattermosttest.Broadcast{})
	got := expectEvent(t, c, "plugin_enabled", 2)
	if string(got.Data) != `{"manifest":{"id":"kept","version":"team"}}` {
		t.Fatalf("sent %s, want the rewriter's", got.raw)
	}
	if ev := receive(t, e.obs.events, "SocketEvent"); !strings.HasPrefix(ev, `plugin_disabled {"event": "plugin_disabled"`) {
		t.Fatalf("observer saw %q, want upstream's message", ev)
	}
	// Others pass as upstream sent them.
	e.mm.BroadcastEvent("plugin_enabled", map[string]any{"manifest": map[string]any{"id": "calls"}}, mattermosttest.Broadcast{})
	got = expectEvent(t, c, "plugin_enabled", 3)
	if string(got.Data) != `{"manifest":{"id":"calls"}}` {
		t.Fatalf("sent %s, want upstream's", got.raw)
	}
	if ev := receive(t, e.obs.events, "SocketEvent"); !strings.HasPrefix(ev, `plugin_enabled {"event": "plugin_enabled", "data": {"manifest":{"id":"calls"}}`) {
		t.Fatalf("observer saw %q, want upstream's message", ev)
	}
}
