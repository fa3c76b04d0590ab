// Package embedexample is the runnable example of docs/embed.md: a small
// site on another origin than mmtoolkit that shows a Mattermost channel
// with the two lines of the guide, and the backend half of the backend
// sign-in (it keeps the app secret and exchanges it for embed tokens).
// `mmtoolkit serve --embed-example ADDR` (sandbox only) registers its app
// and serves it; `make run` does so on http://127.0.0.2:8066.
package embedexample

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
)

//go:embed index.html
var indexHTML string

var page = template.Must(template.New("index").Parse(indexHTML))

// Config is what the example site knows: where mmtoolkit is, its app's id
// and secret (as a real site keeps them in its backend's configuration),
// the channels it shows, and its own users.
type Config struct {
	// Server is mmtoolkit's URL as browsers and this backend reach it.
	Server string
	App    string
	Secret string
	// Channel is shown first; Other is what "Open another channel" opens.
	Channel, Other string
	// Users are the site's users, who are Mattermost users too (the
	// sandbox's): the page signs in as the first by default.
	Users  []string
	Client *http.Client
}

// Handler serves the example site: / (the page) and POST /token (its
// backend's token exchange).
func Handler(cfg Config) http.Handler {
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 10 * time.Second}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		var buf bytes.Buffer
		err := page.Execute(&buf, map[string]any{"Server": strings.TrimRight(cfg.Server, "/"), "App": cfg.App,
			"Channel": cfg.Channel, "Other": cfg.Other, "Users": cfg.Users})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Write(buf.Bytes())
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) { serveToken(w, r, cfg) })
	return mux
}

// serveToken is the site's backend asking mmtoolkit for an embed token for
// its signed-in user. A real site takes the user from its own session;
// this example takes the one the page picked from its list, which only
// makes sense for a demo of sandbox users.
func serveToken(w http.ResponseWriter, r *http.Request, cfg Config) {
	var in struct {
		User string `json:"user"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 4096)).Decode(&in); err != nil || !slices.Contains(cfg.Users, in.User) {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": map[string]string{"code": "example_bad_user",
			"message": fmt.Sprintf("send {\"user\": one of %s}", strings.Join(cfg.Users, ", "))}})
		return
	}
	channels := []string{cfg.Channel}
	if cfg.Other != "" {
		channels = append(channels, cfg.Other)
	}
	body, _ := json.Marshal(map[string]any{"user": in.User, "channels": channels, "ttl_seconds": 900})
	req, err := http.NewRequestWithContext(r.Context(), http.MethodPost, strings.TrimRight(cfg.Server, "/")+"/api/v1/embed/tokens", bytes.NewReader(body))
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]any{"error": map[string]string{"code": "example_error", "message": err.Error()}})
		return
	}
	// The secret never leaves this backend: Basic auth, server to server.
	req.SetBasicAuth(cfg.App, cfg.Secret)
	req.Header.Set("Content-Type", "application/json")
	resp, err := cfg.Client.Do(req)
	if err != nil {
		writeJSON(w, http.StatusBadGateway, map[string]any{"error": map[string]string{"code": "example_upstream", "message": err.Error()}})
		return
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(resp.StatusCode)
	w.Write(out)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
