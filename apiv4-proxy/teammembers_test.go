package apiv4proxy

import (
	"github.com/mmtoolkit/mmtoolkit/identity"

	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
)

// TestTeamMembers: members are those Mattermost answers for with an active
// membership; a 404/403 or a left membership is not one; the caller's own
// token is sent; ids that are not ids are never put in a path.
func TestTeamMembers(t *testing.T) {
	const (
		team  = "tttttttttttttttttttttttttt"
		in    = "aaaaaaaaaaaaaaaaaaaaaaaaaa"
		left  = "bbbbbbbbbbbbbbbbbbbbbbbbbb"
		out   = "cccccccccccccccccccccccccc"
		token = "tok"
	)
	var asked atomic.Int32
	mm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		if r.Header.Get("Authorization") != "Bearer "+token {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		uid, ok := strings.CutPrefix(r.URL.Path, "/api/v4/teams/"+team+"/members/")
		switch {
		case !ok:
			w.WriteHeader(http.StatusNotFound)
		case uid == in:
			json.NewEncoder(w).Encode(map[string]any{"team_id": team, "user_id": in, "roles": "team_user", "delete_at": 0})
		case uid == left:
			json.NewEncoder(w).Encode(map[string]any{"team_id": team, "user_id": left, "roles": "team_user", "delete_at": 1700000000000})
		default:
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"id":"app.team.get_member.missing.app_error","status_code":404}`))
		}
	}))
	defer mm.Close()
	u, err := NewUpstream(mm.URL, UpstreamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	who := &identity.Identity{Token: token}
	got, err := u.TeamMembers(t.Context(), who, team, []string{out, in, left, "../../users/me"})
	if err != nil || !slices.Equal(got, []string{in}) {
		t.Fatalf("TeamMembers = %v, %v; want [%s]", got, err, in)
	}
	if n := asked.Load(); n != 3 {
		t.Errorf("%d requests to Mattermost, want 3 (the malformed id is never asked)", n)
	}
	if _, err := u.TeamMembers(t.Context(), &identity.Identity{Token: "other"}, team, []string{in}); err == nil {
		t.Error("a 401 from Mattermost was not an error")
	}
	if _, err := u.TeamMembers(t.Context(), who, "not-an-id", []string{in}); err == nil {
		t.Error("a malformed team id was asked about")
	}
}
