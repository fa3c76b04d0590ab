package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/mmtoolkit/mmtoolkit/apiv4-proxy/sandbox/sandboxtest"
	"github.com/mmtoolkit/mmtoolkit/server"
)

type wsMsg struct {
	Event     string          `json:"event"`
	Data      json.RawMessage `json:"data"`
	Broadcast map[string]any  `json:"broadcast"`
	Seq       int64           `json:"seq"`
	Status    string          `json:"status"`
	SeqReply  int64           `json:"seq_reply"`
}

// dial connects to /api/v1/websocket as user and reads the hello.
func (e *env) dial(user string) (*websocket.Conn, string) {
	e.t.Helper()
	url := "ws" + strings.TrimPrefix(e.url, "http") + "/api/v1/websocket"
	hdr := http.Header{"Authorization": {"Bearer " + e.tokens[user]}}
	c, resp, err := websocket.DefaultDialer.Dial(url, hdr)
	if err != nil {
		e.t.Fatalf("dial as %s: %v %v", user, err, resp)
	}
	e.t.Cleanup(func() { c.Close() })
	m := readWS(e.t, c, time.Second)
	if m == nil || m.Event != "hello" {
		e.t.Fatalf("no hello: %+v", m)
	}
	var d map[string]string
	json.Unmarshal(m.Data, &d)
	return c, d["connection_id"]
}

// readWS returns the next message, or nil after the timeout. A timed-out
// gorilla connection is unusable: expect nil only as a last read.
func readWS(t testing.TB, c *websocket.Conn, timeout time.Duration) *wsMsg {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(timeout))
	var m wsMsg
	if err := c.ReadJSON(&m); err != nil {
		return nil
	}
	return &m
}

func TestTeamEventsReachOnlyThatTeam(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{})
	if r := e.push("dev", helloPlugin("com.example.hello", "1.0.0")); r.status != 201 {
		t.Fatal(string(r.body))
	}
	bob, _ := e.dial("bob")     // engineering
	carol, _ := e.dial("carol") // sales

	if r := e.setTeam("alice", "engineering", "com.example.hello", `{"enabled":true}`); r.status != 200 {
		t.Fatal(string(r.body))
	}
	m := readWS(t, bob, 2*time.Second)
	if m == nil || m.Event != "plugin_enabled" || m.Seq != 1 || m.Broadcast["team_id"] != e.teams["engineering"] {
		t.Fatalf("bob got %+v", m)
	}
	var d struct {
		TeamID string `json:"team_id"`
		Plugin struct {
			ID     string
			Bundle struct{ URL string }
		} `json:"plugin"`
	}
	json.Unmarshal(m.Data, &d)
	if d.Plugin.ID != "com.example.hello" || !strings.HasPrefix(d.Plugin.Bundle.URL, "/bundles/") {
		t.Errorf("plugin_enabled data: %s", m.Data)
	}
	if m := readWS(t, carol, 300*time.Millisecond); m != nil {
		t.Fatalf("carol (sales) got engineering's event: %+v", m)
	}

	// A new version reaches teams following latest as plugin_updated.
	if r := e.push("dev", helloPlugin("com.example.hello", "1.1.0")); r.status != 201 {
		t.Fatal(string(r.body))
	}
	if m := readWS(t, bob, 2*time.Second); m == nil || m.Event != "plugin_updated" || !strings.Contains(string(m.Data), `"version":"1.1.0"`) {
		t.Fatalf("after push: %+v", m)
	}
	// Pinning the old version is an update too; disabling says so.
	e.setTeam("alice", "engineering", "com.example.hello", `{"enabled":true,"version":"1.0.0"}`)
	if m := readWS(t, bob, 2*time.Second); m == nil || m.Event != "plugin_updated" || !strings.Contains(string(m.Data), `"version":"1.0.0"`) {
		t.Fatalf("after pin: %+v", m)
	}
	e.setTeam("alice", "engineering", "com.example.hello", `{"enabled":false}`)
	if m := readWS(t, bob, 2*time.Second); m == nil || m.Event != "plugin_disabled" || m.Seq != 4 {
		t.Fatalf("after disable: %+v", m)
	}
	if m := readWS(t, carol, 200*time.Millisecond); m != nil {
		t.Fatalf("carol got %+v", m)
	}
}

func TestWebsocketAuthenticationChallenge(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{})
	url := "ws" + strings.TrimPrefix(e.url, "http") + "/api/v1/websocket"
	c, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.WriteJSON(map[string]any{"seq": 1, "action": "authentication_challenge", "data": map[string]string{"token": e.tokens["bob"]}})
	if m := readWS(t, c, time.Second); m == nil || m.Status != "OK" || m.SeqReply != 1 {
		t.Fatalf("challenge reply: %+v", m)
	}
	if m := readWS(t, c, time.Second); m == nil || m.Event != "hello" {
		t.Fatalf("hello: %+v", m)
	}

	bad, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	bad.WriteJSON(map[string]any{"seq": 1, "action": "authentication_challenge", "data": map[string]string{"token": "nope"}})
	if m := readWS(t, bad, time.Second); m == nil || m.Status != "FAIL" {
		t.Fatalf("bad token: %+v", m)
	}
	if _, _, err := bad.ReadMessage(); err == nil {
		t.Fatal("connection stays open after a failed challenge")
	}

	// A page on another origin may not open the socket with the cookie.
	hdr := http.Header{"Cookie": {"MMAUTHTOKEN=" + e.tokens["bob"]}, "Origin": {"http://evil.example"}}
	if _, resp, err := websocket.DefaultDialer.Dial(url, hdr); err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-origin upgrade: %v %v", err, resp)
	}
}

func TestCustomEventsToTeamMembers(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{})
	e.push("dev", helloPlugin("com.example.video", "1.0.0"))
	publish := func(user, body string) response {
		t.Helper()
		return e.do(user, "POST", "/api/v1/plugins/com.example.video/events", "application/json", strings.NewReader(body))
	}
	// Not enabled for the team yet: hidden.
	if r := publish("bob", `{"event":"ring","team_id":"engineering","data":{"x":1}}`); r.status != 404 || r.errorCode(t) != "plugin_not_enabled" {
		t.Fatalf("disabled plugin: %d %s", r.status, r.body)
	}
	e.setTeam("alice", "engineering", "com.example.video", `{"enabled":true}`)
	bob, bobConn := e.dial("bob")
	alice, _ := e.dial("alice")
	carol, _ := e.dial("carol")

	r := publish("alice", `{"event":"ring","team_id":"engineering","data":{"from":"alice"}}`)
	if r.status != http.StatusAccepted || r.json(t)["delivered"].(float64) != 2 {
		t.Fatalf("publish: %d %s", r.status, r.body)
	}
	for name, c := range map[string]*websocket.Conn{"bob": bob, "alice": alice} {
		m := readWS(t, c, time.Second)
		if m == nil || m.Event != "custom_com.example.video_ring" || string(m.Data) != `{"from":"alice"}` ||
			m.Broadcast["sender_id"] == "" {
			t.Fatalf("%s got %+v", name, m)
		}
	}
	if m := readWS(t, carol, 200*time.Millisecond); m != nil {
		t.Fatalf("carol got a team event of engineering: %+v", m)
	}
	// Narrowed to users, and the sender's connection omitted.
	r = publish("bob", `{"event":"offer","team_id":"engineering","user_ids":["`+userID("alice")+`"],"omit_connection_id":"`+bobConn+`","data":{}}`)
	if r.status != 202 || r.json(t)["delivered"].(float64) != 1 {
		t.Fatalf("narrowed publish: %d %s", r.status, r.body)
	}
	if m := readWS(t, alice, time.Second); m == nil || m.Event != "custom_com.example.video_offer" {
		t.Fatalf("alice: %+v", m)
	}
	if m := readWS(t, bob, 200*time.Millisecond); m != nil {
		t.Fatalf("bob got an event meant for alice: %+v", m)
	}

	for _, tt := range []struct {
		user, body, code string
		status           int
	}{
		{"carol", `{"event":"x","team_id":"engineering"}`, "not_team_member", 403},
		{"bob", `{"event":"Bad Name","team_id":"engineering"}`, "bad_event_name", 400},
		{"bob", `{"event":"x"}`, "bad_event_target", 400},
		{"bob", `{"event":"x","team_id":"engineering","channel_id":"c"}`, "bad_event_target", 400},
		{"bob", `{"event":"x","team_id":"engineering","data":"` + strings.Repeat("a", 70<<10) + `"}`, "event_too_large", 413},
		{"bob", `not json`, "bad_request", 400},
	} {
		if r := publish(tt.user, tt.body); r.status != tt.status || r.errorCode(t) != tt.code {
			t.Errorf("%s %.40s: %d %s", tt.user, tt.body, r.status, r.body)
		}
	}
	// Rate limit: the burst passes, then 429.
	limited := false
	for i := 0; i < 200 && !limited; i++ {
		limited = publish("bob", `{"event":"x","team_id":"engineering"}`).status == http.StatusTooManyRequests
	}
	if !limited {
		t.Error("200 events in a burst were never rate limited")
	}
}

func TestCustomEventsToChannelMembers(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{})
	e.push("dev", helloPlugin("com.example.video", "1.0.0"))
	e.setTeam("alice", "engineering", "com.example.video", `{"enabled":true}`)
	e.setTeam("admin", "sales", "com.example.video", `{"enabled":true}`)
	devTalk := sandboxtest.ChannelID("engineering/dev-talk")
	deals := sandboxtest.ChannelID("sales/deals")

	bob, _ := e.dial("bob")
	carol, _ := e.dial("carol")
	publish := func(user, channel string) response {
		t.Helper()
		return e.do(user, "POST", "/api/v1/plugins/com.example.video/events", "application/json",
			strings.NewReader(`{"event":"offer","channel_id":"`+channel+`","data":{"sdp":"v=0"}}`))
	}
	r := publish("alice", devTalk)
	if r.status != 202 {
		t.Fatalf("publish to dev-talk: %d %s", r.status, r.body)
	}
	m := readWS(t, bob, time.Second)
	if m == nil || m.Event != "custom_com.example.video_offer" || m.Broadcast["channel_id"] != devTalk ||
		m.Broadcast["team_id"] != e.teams["engineering"] || m.Broadcast["sender_id"] != userID("alice") {
		t.Fatalf("bob (member of dev-talk) got %+v", m)
	}
	// carol is not in the channel: the sender may not reach her, and she may
	// not publish into it.
	if r := publish("carol", devTalk); r.status != 404 || r.errorCode(t) != "channel_not_found" {
		t.Fatalf("carol publishes into an engineering channel: %d %s", r.status, r.body)
	}
	if r := publish("carol", deals); r.status != 202 || r.json(t)["delivered"].(float64) != 1 {
		t.Fatalf("carol publishes into her channel: %d %s", r.status, r.body)
	}
	if m := readWS(t, carol, time.Second); m == nil || m.Broadcast["channel_id"] != deals {
		t.Fatalf("carol's own channel event: %+v", m)
	}
	if m := readWS(t, bob, 300*time.Millisecond); m != nil {
		t.Fatalf("bob got a sales channel's event: %+v", m)
	}
}

func TestWebsocketAnswersPing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{})
	c, _ := e.dial("bob")
	c.WriteJSON(map[string]any{"seq": 7, "action": "ping"})
	m := readWS(t, c, time.Second)
	if m == nil || m.Status != "OK" || m.SeqReply != 7 || !strings.Contains(string(m.Data), "pong") {
		t.Fatalf("ping: %+v", m)
	}
	if r := e.do("bob", "GET", "/api/v2/anything", "", nil); r.status != 404 || r.errorCode(t) != "route_not_found" {
		t.Errorf("unknown API version: %d %.100s", r.status, r.body)
	}
}

func TestBuildFailureReachesThePushersPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{})
	dev, _ := e.dial("dev")
	bob, _ := e.dial("bob")
	files := helloPlugin("com.example.broken", "1.0.0")
	files["webapp/index.tsx"] = "import React from 'react';\nconst x = 1 +;\n"
	if r := e.push("dev", files); r.status != 422 {
		t.Fatalf("push: %d", r.status)
	}
	m := readWS(t, dev, time.Second)
	if m == nil || m.Event != "plugin_build_failed" {
		t.Fatalf("dev got %+v", m)
	}
	var d struct {
		PluginID    string `json:"plugin_id"`
		Diagnostics []struct {
			File string
			Line int
		}
	}
	json.Unmarshal(m.Data, &d)
	if d.PluginID != "com.example.broken" || len(d.Diagnostics) == 0 || d.Diagnostics[0].File != "webapp/index.tsx" || d.Diagnostics[0].Line != 2 {
		t.Fatalf("build failure data: %s", m.Data)
	}
	if m := readWS(t, bob, 300*time.Millisecond); m != nil {
		t.Fatalf("another user saw dev's build failure: %+v", m)
	}
}
