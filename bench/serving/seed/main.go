// Command seed fills a registry file for the memory benchmark of
// bench/serving: -plugins plugins with -versions versions each (a small,
// distinct web.js per version, with its gzip encoding, as a push stores
// them) and -teams teams each enabling between -min and -max plugins, one in
// five pinned to a version. It writes the bbolt file directly with
// registry.Open and PutVersion/SetTeamState, without fsync, which is far
// faster than pushing through HTTP and leaves the same records.
//
// -known names teams by id that come first and enable -max plugins, the
// largest manifests: run.sh passes the sandbox's engineering and sales, the
// only teams its users can read over HTTP. The other teams have synthetic
// ids that only a direct slots.Build sees. Every team id is written, one a
// line, to DB.teams for BenchmarkBuildAllTeams. The output is deterministic
// for given flags.
//
//	go run ./bench/serving/seed -db /tmp/data/registry.db -known ENGINEERING_ID,SALES_ID
package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"time"

	"github.com/mmtoolkit/mmtoolkit/bundler/pluginpkg"
	"github.com/mmtoolkit/mmtoolkit/registry"
)

// Shape is the size of the seeded registry.
type Shape struct {
	Plugins, Versions, Teams int
	// Each team enables between MinEnabled and MaxEnabled plugins; Known
	// teams enable MaxEnabled.
	MinEnabled, MaxEnabled int
	// Known are team ids to seed first (the rest are synthetic).
	Known []string
	// Pusher and Actor are the user ids recorded as pushing the versions
	// and changing the team states.
	Pusher, Actor string
}

// DefaultShape is the figure: 1,000 plugins x 5 versions, 1,000
// teams enabling 5-20 plugins each.
var DefaultShape = Shape{Plugins: 1000, Versions: 5, Teams: 1000, MinEnabled: 5, MaxEnabled: 20,
	Pusher: "benchdev", Actor: "benchadmin"}

func main() {
	db := flag.String("db", "", "registry file to create (required), e.g. DATA/registry.db")
	known := flag.String("known", "", "comma-separated team ids seeded first with -max plugins each")
	sh := DefaultShape
	flag.IntVar(&sh.Plugins, "plugins", sh.Plugins, "plugins")
	flag.IntVar(&sh.Versions, "versions", sh.Versions, "versions per plugin")
	flag.IntVar(&sh.Teams, "teams", sh.Teams, "teams, -known ones included")
	flag.IntVar(&sh.MinEnabled, "min", sh.MinEnabled, "fewest plugins a team enables")
	flag.IntVar(&sh.MaxEnabled, "max", sh.MaxEnabled, "most plugins a team enables")
	flag.StringVar(&sh.Pusher, "pusher", sh.Pusher, "user id recorded as the pusher (the owner)")
	flag.StringVar(&sh.Actor, "actor", sh.Actor, "user id recorded as enabling the plugins")
	flag.Parse()
	if *db == "" || flag.NArg() != 0 {
		flag.Usage()
		os.Exit(2)
	}
	if *known != "" {
		sh.Known = strings.Split(*known, ",")
	}
	t0 := time.Now()
	n, err := Seed(context.Background(), *db, sh)
	if err != nil {
		fmt.Fprintln(os.Stderr, "seed:", err)
		os.Exit(1)
	}
	fmt.Printf("seeded %s: %d plugins x %d versions, %d teams, %d team states in %s\n",
		*db, sh.Plugins, sh.Versions, sh.Teams, n, time.Since(t0).Round(time.Millisecond))
}

// TeamIDs are the seeded teams' ids: the known ones, then synthetic ones
// shaped like Mattermost's (26 characters).
func (sh Shape) TeamIDs() []string {
	ids := append([]string(nil), sh.Known...)
	for i := len(ids); i < sh.Teams; i++ {
		ids = append(ids, fmt.Sprintf("benchteam%017d", i))
	}
	return ids
}

func pluginID(i int) string { return fmt.Sprintf("com.example.bench.p%04d", i) }

func versionName(j int) string { return fmt.Sprintf("1.%d.0", j) }

// Seed writes the registry at path and the list of team ids at path.teams,
// and returns how many team states it set. It refuses a file that already
// has plugins, so a benchmark never measures a doubled store.
func Seed(ctx context.Context, path string, sh Shape) (int, error) {
	store, err := registry.Open(path, &registry.Options{NoSync: true})
	if err != nil {
		return 0, err
	}
	defer store.Close()
	if ps, err := store.Plugins(ctx); err != nil {
		return 0, err
	} else if len(ps) > 0 {
		return 0, fmt.Errorf("%s already has %d plugins: seed an empty file", path, len(ps))
	}

	by := registry.Pusher{UserID: sh.Pusher}
	for i := 0; i < sh.Plugins; i++ {
		for j := 0; j < sh.Versions; j++ {
			v, blobs := version(pluginID(i), versionName(j), i)
			if _, err := store.PutVersion(ctx, v, blobs, by); err != nil {
				return 0, err
			}
		}
	}

	teams := sh.TeamIDs()
	rng := rand.New(rand.NewPCG(7, uint64(sh.Teams)))
	states := 0
	for ti, team := range teams {
		n := sh.MinEnabled + rng.IntN(sh.MaxEnabled-sh.MinEnabled+1)
		if ti < len(sh.Known) {
			n = sh.MaxEnabled
		}
		for _, p := range rng.Perm(sh.Plugins)[:min(n, sh.Plugins)] {
			s := registry.TeamState{TeamID: team, PluginID: pluginID(p), Enabled: true, UpdatedBy: sh.Actor}
			if rng.IntN(5) == 0 {
				s.Version = versionName(rng.IntN(sh.Versions))
			}
			if _, err := store.SetTeamState(ctx, s); err != nil {
				return 0, err
			}
			states++
		}
	}
	return states, os.WriteFile(path+".teams", []byte(strings.Join(teams, "\n")+"\n"), 0o644)
}

// version builds a valid version of id, as a push would store it: a small
// web bundle distinct per version, its gzip encoding, and slots.
func version(id, ver string, i int) (*registry.Version, map[string][]byte) {
	m := pluginpkg.Manifest{
		ID:          id,
		Name:        fmt.Sprintf("Bench plugin %d", i),
		Version:     ver,
		Description: "Seeded by bench/serving/seed.",
		Webapp:      &pluginpkg.Webapp{Entry: "webapp/index.tsx"},
		Slots:       []pluginpkg.SlotDecl{{Slot: "channel_header_button"}},
	}
	if i%3 == 0 {
		m.Slots = append(m.Slots, pluginpkg.SlotDecl{Slot: "post_type", PostType: fmt.Sprintf("custom_bench_%d", i)})
	}
	raw, err := json.Marshal(m)
	if err != nil {
		panic(err) // a Manifest always marshals
	}
	js := []byte(fmt.Sprintf(`(()=>{var e=window.React;class t{initialize(r){r.registerChannelHeaderButtonAction(e.createElement("span",null,%q),()=>console.log(%q),%q,%q)}}window.registerPlugin(%q,new t)})();`+"\n",
		"bench "+id, id+"@"+ver, "Bench "+ver, "Benchmark plugin "+id, id))
	gz := gzipBytes(js)
	a := registry.Artifact{
		SHA256:       sha256Hex(js),
		Size:         int64(len(js)),
		ContentType:  "text/javascript; charset=utf-8",
		Encodings:    map[string]string{"gzip": sha256Hex(gz)},
		EncodedSizes: map[string]int64{"gzip": int64(len(gz))},
	}
	v := &registry.Version{
		PluginID:      id,
		Version:       ver,
		Manifest:      m,
		RawManifest:   raw,
		PackageSHA256: sha256Hex([]byte(id + "\x00" + ver + "\x00" + a.SHA256)),
		Artifacts:     map[string]registry.Artifact{registry.WebJS: a},
		HostModules:   []string{"react"},
	}
	return v, map[string][]byte{a.SHA256: js, a.Encodings["gzip"]: gz}
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func gzipBytes(b []byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}
