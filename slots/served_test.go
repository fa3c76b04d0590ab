package slots

import (
	"context"
	"errors"
	"testing"

	"github.com/mmtoolkit/mmtoolkit/registry"
	"github.com/mmtoolkit/mmtoolkit/registry/registrytest"
)

// hidingSource hides some versions, as the server's minimum certification
// does.
type hidingSource struct {
	Source
	hidden map[string]bool
}

func (h hidingSource) Version(ctx context.Context, id, v string) (*registry.Version, error) {
	if h.hidden[v] {
		return nil, registry.ErrVersionNotFound
	}
	return h.Source.Version(ctx, id, v)
}

// TestServedNeverFollowsAPrerelease: a team that follows the latest
// version serves the newest release, whatever prereleases (push --watch
// builds) sit above it; a pin serves a prerelease; a plugin with only
// prereleases is served to nobody who follows.
func TestServedNeverFollowsAPrerelease(t *testing.T) {
	ctx := context.Background()
	store := registrytest.Open(t)
	by := registry.Pusher{UserID: "dev"}
	put := func(id, v string) {
		t.Helper()
		ver, blobs := registrytest.Version(id, v, []byte(id+" "+v))
		if _, err := store.PutVersion(ctx, ver, blobs, by); err != nil {
			t.Fatal(err)
		}
	}
	for _, v := range []string{"1.0.0", "1.0.1-dev.1733300000000", "1.0.1-dev.1733300000500", "1.1.0-rc.1"} {
		put("com.example.a", v)
	}
	put("com.example.new", "0.1.1-dev.1733300000000")

	for _, tc := range []struct {
		name, id, pin string
		enabled       bool
		hidden        []string
		want          string // "" = ErrNotServed
	}{
		{"follower gets the release", "com.example.a", "", true, nil, "1.0.0"},
		{"pinned prerelease", "com.example.a", "1.0.1-dev.1733300000500", true, nil, "1.0.1-dev.1733300000500"},
		{"pinned rc", "com.example.a", "1.1.0-rc.1", true, nil, "1.1.0-rc.1"},
		{"pinned release", "com.example.a", "1.0.0", true, nil, "1.0.0"},
		{"disabled", "com.example.a", "", false, nil, ""},
		{"only prereleases", "com.example.new", "", true, nil, ""},
		{"release hidden by the source", "com.example.a", "", true, []string{"1.0.0"}, ""},
		{"unknown plugin", "com.example.none", "", true, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := Source(store)
			if tc.hidden != nil {
				h := hidingSource{store, map[string]bool{}}
				for _, v := range tc.hidden {
					h.hidden[v] = true
				}
				src = h
			}
			v, err := Served(ctx, src, tc.id, registry.TeamState{Enabled: tc.enabled, Version: tc.pin})
			switch {
			case tc.want == "" && !errors.Is(err, ErrNotServed):
				t.Fatalf("served %v, err %v; want ErrNotServed", v, err)
			case tc.want != "" && err != nil:
				t.Fatal(err)
			case tc.want != "" && v.Version != tc.want:
				t.Fatalf("served %s, want %s", v.Version, tc.want)
			}
		})
	}
}

func TestLatestRelease(t *testing.T) {
	for _, tc := range []struct {
		versions []string
		want     string
	}{
		{nil, ""},
		{[]string{"1.0.0"}, "1.0.0"},
		{[]string{"1.0.0", "1.0.1-dev.5", "1.1.0-rc.1"}, "1.0.0"},
		{[]string{"0.1.0-dev.1", "0.1.0-dev.2"}, ""},
		{[]string{"1.0.0", "1.0.1-dev.5", "2.0.0+build.7"}, "2.0.0+build.7"},
	} {
		if got := LatestRelease(&registry.Plugin{Versions: tc.versions}); got != tc.want {
			t.Errorf("LatestRelease(%v) = %q, want %q", tc.versions, got, tc.want)
		}
	}
}

// TestServedWithPreviewAndMinimum: the developer's preview and the minimum
// certification are inputs of the one decision (Previewing, Certified),
// not decisions of their callers: a preview replaces the release only for
// an enabled team that follows the latest; the minimum hides versions
// below it, so a follower keeps the highest version that meets it and a
// pin below it serves nothing.
func TestServedWithPreviewAndMinimum(t *testing.T) {
	ctx := context.Background()
	store := registrytest.Open(t)
	put := func(v string, c registry.Certification) {
		t.Helper()
		ver, blobs := registrytest.Version("com.example.p", v, []byte(v))
		ver.Certification = c
		if _, err := store.PutVersion(ctx, ver, blobs, registry.Pusher{UserID: "dev"}); err != nil {
			t.Fatal(err)
		}
	}
	put("1.0.0", registry.Certified)
	put("1.1.0", registry.Unverified)
	put("1.2.0-dev.1733300000000", registry.Certified)
	const preview = "1.2.0-dev.1733300000000"
	for _, tc := range []struct {
		name    string
		st      registry.TeamState
		preview string
		min     registry.Certification
		want    string // "" = ErrNotServed
	}{
		{"follower, no minimum", registry.TeamState{Enabled: true}, "", registry.Unverified, "1.1.0"},
		{"follower under the minimum", registry.TeamState{Enabled: true}, "", registry.Certified, "1.0.0"},
		{"pin below the minimum", registry.TeamState{Enabled: true, Version: "1.1.0"}, "", registry.Certified, ""},
		{"follower previewing", registry.TeamState{Enabled: true}, preview, registry.Unverified, preview},
		{"pinned team ignores the preview", registry.TeamState{Enabled: true, Version: "1.0.0"}, preview, registry.Unverified, "1.0.0"},
		{"disabled team ignores the preview", registry.TeamState{}, preview, registry.Unverified, ""},
		{"preview under the minimum", registry.TeamState{Enabled: true}, preview, registry.Certified, preview},
		{"unverified preview under the minimum", registry.TeamState{Enabled: true}, "1.1.0", registry.Certified, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := Served(ctx, Certified(store, tc.min), "com.example.p", Previewing(tc.st, tc.preview))
			switch {
			case tc.want == "" && !errors.Is(err, ErrNotServed):
				t.Fatalf("served %v, err %v; want ErrNotServed", v, err)
			case tc.want != "" && err != nil:
				t.Fatal(err)
			case tc.want != "" && v.Version != tc.want:
				t.Fatalf("served %s, want %s", v.Version, tc.want)
			}
		})
	}
	p, err := Certified(store, registry.Certified).Plugin(ctx, "com.example.p")
	if err != nil || p.Latest != preview {
		t.Errorf("Certified's Latest: %+v %v, want the highest version at the minimum", p, err)
	}
}
