package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"
)

// errNoVersion is returned when plugin.json has no version, none was given
// with --version and none can be read from git.
var errNoVersion = errors.New("plugin.json has no version")

// gitVersion is the version Mattermost's plugin build gives a plugin.json
// without one (the starter template's build/manifest, fed by build/setup.mk):
// the first v-tag on HEAD without its "v"; else the latest v-tag reachable
// from HEAD plus "+<short hash>"; else "0.0.0+<short hash>". So a
// repository pushed as it is gets the version its own `make dist` would
// write.
func gitVersion(dir string) (string, error) {
	git := func(args ...string) (string, error) {
		out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).Output()
		return strings.TrimSpace(string(out)), err
	}
	hash, err := git("rev-parse", "--short", "HEAD")
	if err != nil || hash == "" {
		return "", fmt.Errorf("%w, and %s is not in a git repository with a commit to take one from: give one with --version 1.2.3", errNoVersion, dir)
	}
	current, _ := git("tag", "--points-at", "HEAD")
	for _, t := range strings.Fields(current) {
		if strings.HasPrefix(t, "v") {
			return strings.TrimPrefix(t, "v"), nil
		}
	}
	latest, _ := git("describe", "--tags", "--match", "v*", "--abbrev=0")
	if latest == "" {
		latest = "v0.0.0"
	}
	return strings.TrimPrefix(latest, "v") + "+" + hash, nil
}

// withGitVersion fills in a missing version of plugin.json from git (see
// gitVersion); a plugin.json that has one is returned unchanged.
func withGitVersion(dir string) func(raw []byte) ([]byte, error) {
	return func(raw []byte) ([]byte, error) {
		var m struct {
			Version *string `json:"version"`
		}
		if err := json.NewDecoder(bytes.NewReader(raw)).Decode(&m); err != nil || (m.Version != nil && *m.Version != "") {
			return raw, nil // the manifest's own checks report a broken file
		}
		v, err := gitVersion(dir)
		if err != nil {
			return nil, err
		}
		return withManifestVersion(raw, v)
	}
}
