package main

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// A first `serve` installs the reference plugins: in the sandbox they are
// enabled for every team; in front of a real Mattermost (here another
// mmtoolkit's sandbox) they are installed and left disabled. A restart
// changes nothing an admin chose.
func TestServePreinstallsTheReferencePlugins(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)
	refs := []string{"mmtoolkit.video", "mmtoolkit.map", "mmtoolkit.appcenter"}
	data := t.TempDir()

	a := startServerArgs(t, bin, "--data", data, "--reference-plugins=true")
	for _, user := range []string{"bob", "carol"} {
		team := map[string]string{"bob": "engineering", "carol": "sales"}[user]
		ids := manifestIDs(t, a.url, login(t, a.url, user), team)
		for _, id := range refs {
			if !strings.Contains(ids, id) {
				t.Errorf("sandbox: %s's manifest of %s lacks %s: %s", user, team, id, ids)
			}
		}
	}
	// The built-in package is what `mmtoolkit pack` makes of its directory:
	// pushing the directory unchanged is an idempotent 200, not a conflict.
	push := exec.Command(bin, "push", filepath.Join("..", "..", "plugins", "map")) // it has files pack leaves out
	push.Env = append(os.Environ(), "MMTOOLKIT_SERVER="+a.url, "MMTOOLKIT_USER=admin", "MMTOOLKIT_PASSWORD=mmtoolkit", "MMTOOLKIT_TOKEN=")
	if out, err := push.CombinedOutput(); err != nil {
		t.Fatalf("push plugins/map onto its preinstalled copy: %v\n%s", err, out)
	}

	// alice disables the map for engineering; a restart leaves it disabled.
	alice := login(t, a.url, "alice")
	req, _ := http.NewRequest("PUT", a.url+"/api/v1/teams/engineering/plugins/mmtoolkit.map", strings.NewReader(`{"enabled":false}`))
	req.Header.Set("Authorization", "Bearer "+alice)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("disable: %v %v", err, resp)
	}
	a.kill(t)
	a = startServerArgs(t, bin, "--data", data, "--reference-plugins=true")
	if ids := manifestIDs(t, a.url, login(t, a.url, "bob"), "engineering"); strings.Contains(ids, "mmtoolkit.map") || !strings.Contains(ids, "mmtoolkit.video") {
		t.Errorf("after a restart, engineering has %s", ids)
	}

	// In front of a Mattermost: installed, enabled nowhere.
	b := startServerArgs(t, bin, "--data", t.TempDir(), "--upstream", a.url, "--reference-plugins=true")
	bob := login(t, b.url, "bob")
	if ids := manifestIDs(t, b.url, bob, "engineering"); ids != "" {
		t.Errorf("upstream mode: engineering's manifest lists %s", ids)
	}
	resp, err := http.DefaultClient.Do(authed(t, "GET", b.url+"/api/v1/plugins", bob))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, id := range refs {
		if !strings.Contains(string(body), `"`+id+`"`) {
			t.Errorf("upstream mode: the catalogue lacks %s: %s", id, body)
		}
	}
}

func authed(t *testing.T, method, url, token string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	return req
}

// manifestIDs lists the plugin ids of a team's web manifest, space-separated.
func manifestIDs(t *testing.T, url, token, team string) string {
	t.Helper()
	resp, err := http.DefaultClient.Do(authed(t, "GET", url+"/api/v1/manifest?team="+team+"&platform=web", token))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m struct {
		Plugins []struct{ ID string } `json:"plugins"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil || resp.StatusCode != 200 {
		t.Fatalf("manifest of %s: %d %v", team, resp.StatusCode, err)
	}
	var ids []string
	for _, p := range m.Plugins {
		ids = append(ids, p.ID)
	}
	return strings.Join(ids, " ")
}

// buildBinary builds this command into a temp directory.
func buildBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := filepath.Join(t.TempDir(), "mmtoolkit")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}
