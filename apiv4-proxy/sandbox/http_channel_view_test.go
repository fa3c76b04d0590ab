package sandbox

import (
	"encoding/json"
	"net/http"
	"testing"
)

// The embed frame and Mattermost's webapp ask a channel's member record
// and mark channels viewed; both answered 404 before.
func TestChannelMemberAndView(t *testing.T) {
	sb, _ := openSandbox(t)
	a := newAPIServer(t, sb)
	town := SeedID("channel", "engineering/town-square")
	deals := SeedID("channel", "sales/deals")

	cases := []struct {
		name, user, method, path, body string
		status                         int
		errID                          string
	}{
		{"own member record", "bob", "GET", "/api/v4/channels/" + town + "/members/me", "", 200, ""},
		{"another member's record", "bob", "GET", "/api/v4/channels/" + town + "/members/" + userID("alice"), "", 200, ""},
		{"a non-member's record", "bob", "GET", "/api/v4/channels/" + town + "/members/" + userID("carol"), "", 404, "app.channel.get_member.missing.app_error"},
		{"a channel the caller cannot read", "bob", "GET", "/api/v4/channels/" + deals + "/members/me", "", 403, "api.context.permissions.app_error"},
		{"no session", "", "GET", "/api/v4/channels/" + town + "/members/me", "", 401, ""},
		{"view a channel", "bob", "POST", "/api/v4/channels/members/me/view", `{"channel_id":"` + town + `","prev_channel_id":""}`, 200, ""},
		{"view a channel the caller cannot read", "bob", "POST", "/api/v4/channels/members/me/view", `{"channel_id":"` + deals + `"}`, 403, "api.context.permissions.app_error"},
		{"view for another user", "bob", "POST", "/api/v4/channels/members/" + userID("alice") + "/view", `{"channel_id":"` + town + `"}`, 403, "api.context.permissions.app_error"},
		{"a bad body", "bob", "POST", "/api/v4/channels/members/me/view", `{`, 400, "api.context.invalid_body_param.app_error"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := a.do(c.user, c.method, c.path, c.body)
			if r.status != c.status {
				t.Fatalf("status %d, want %d: %s", r.status, c.status, r.body)
			}
			var body map[string]any
			if err := json.Unmarshal(r.body, &body); err != nil {
				t.Fatalf("not JSON: %s", r.body)
			}
			if c.errID != "" && body["id"] != c.errID {
				t.Errorf("error id %v, want %s", body["id"], c.errID)
			}
			if c.status != http.StatusOK {
				return
			}
			switch c.method {
			case "GET":
				if body["channel_id"] != town || body["user_id"] == "" {
					t.Errorf("member record %s", r.body)
				}
			case "POST":
				times, _ := body["last_viewed_at_times"].(map[string]any)
				if body["status"] != "OK" || times[town] == nil {
					t.Errorf("view answer %s", r.body)
				}
			}
		})
	}
}
