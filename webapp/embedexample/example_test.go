package embedexample

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The example's backend asks mmtoolkit as a backend does: Basic auth with
// the app's id and secret, no Origin header, the page's user and the
// site's channels; the page gets the answer, never the secret.
func TestTokenExchange(t *testing.T) {
	var got struct {
		user, pass, origin string
		ok                 bool
		body               map[string]any
	}
	mm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/api/v1/embed/tokens" {
			http.NotFound(w, r)
			return
		}
		got.user, got.pass, got.ok = r.BasicAuth()
		got.origin = r.Header.Get("Origin")
		json.NewDecoder(r.Body).Decode(&got.body)
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"token":"mmte_t","expires_at":1}`)
	}))
	defer mm.Close()
	h := Handler(Config{Server: mm.URL, App: "app1", Secret: "mmts_secret", Channel: "c1", Other: "c2", Users: []string{"bob", "alice"}})

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/token", strings.NewReader(`{"user":"alice"}`)))
	if rec.Code != http.StatusCreated || rec.Body.String() != `{"token":"mmte_t","expires_at":1}` {
		t.Fatalf("token: %d %s", rec.Code, rec.Body.String())
	}
	if !got.ok || got.user != "app1" || got.pass != "mmts_secret" || got.origin != "" {
		t.Errorf("mmtoolkit was asked with %+v", got)
	}
	if got.body["user"] != "alice" || len(got.body["channels"].([]any)) != 2 {
		t.Errorf("body %v", got.body)
	}

	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/token", strings.NewReader(`{"user":"mallory"}`)))
	if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), "example_bad_user") {
		t.Errorf("a user the site does not have: %d %s", rec.Code, rec.Body.String())
	}

	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	page := rec.Body.String()
	for _, want := range []string{
		`<script src="` + mm.URL + `/embed/v1/embed.js"></script>`,
		`<mattermost-channel id="chat" app="app1" channel="c1" theme="light" accent="#0b8a6a"></mattermost-channel>`,
		`chat.openChannel('c2')`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	if strings.Contains(page, "mmts_secret") {
		t.Error("the secret is in the page")
	}
}
