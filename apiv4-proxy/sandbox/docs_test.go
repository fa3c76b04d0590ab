package sandbox

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// TestDocsNameTheSeededIDs keeps docs/sandbox.md's tables true: every
// seeded user, team, channel and call id is there, and every id-looking
// value there is one of them.
func TestDocsNameTheSeededIDs(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "sandbox.md"))
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]string{}
	for _, u := range seedUsers {
		known[SeedID("user", u.username)] = "user " + u.username
	}
	for _, tm := range seedTeams {
		known[SeedID("team", tm.Name)] = "team " + tm.Name
	}
	for _, c := range seedChannels {
		known[SeedID("channel", c.team+"/"+c.name)] = "channel " + c.team + "/" + c.name
	}
	known[SeedID("call", "engineering/dev-talk")] = "the dev-talk call"
	for id, what := range known {
		if !regexp.MustCompile(`\b` + id + `\b`).Match(doc) {
			t.Errorf("docs/sandbox.md does not give the id of %s (%s)", what, id)
		}
	}
	for _, m := range regexp.MustCompile("`([a-z0-9]{26})`|\"([a-z0-9]{26})\"").FindAllSubmatch(doc, -1) {
		id := string(m[1]) + string(m[2])
		if _, ok := known[id]; !ok {
			t.Errorf("docs/sandbox.md names %s, which is no seeded id", id)
		}
	}
}
