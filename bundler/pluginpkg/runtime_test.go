package pluginpkg

import (
	"errors"
	"fmt"
	"testing"
)

func TestRuntimeRange(t *testing.T) {
	tests := []struct {
		rng     string
		accepts []string
		rejects []string
	}{
		{"", []string{"0.0.1", "1.0.0", "99.1.2", "1.0.0-beta.1"}, nil},
		{">=1.0.0 <2.0.0", []string{"1.0.0", "1.9.9"}, []string{"0.9.0", "2.0.0", "2.0.0-rc.1"}},
		{"^1.2", []string{"1.2.0", "1.7.3"}, []string{"1.1.9", "2.0.0"}},
		{"~1.4.0", []string{"1.4.0", "1.4.9"}, []string{"1.5.0"}},
		{"1.x", []string{"1.0.0", "1.99.0"}, []string{"2.0.0"}},
		{"1.0.0 - 1.5.0", []string{"1.0.0", "1.5.0"}, []string{"1.5.1"}},
		{"^1.0.0 || ^3.0.0", []string{"1.2.0", "3.1.0"}, []string{"2.0.0"}},
		{">=1.0.0-beta.1 <2", []string{"1.0.0-beta.2", "1.0.0"}, []string{"0.9.0"}},
	}
	for _, tc := range tests {
		t.Run(tc.rng, func(t *testing.T) {
			r, err := ParseRuntimeRange(tc.rng)
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range tc.accepts {
				if !r.Accepts(mustRuntime(t, v)) {
					t.Errorf("%q rejects %s", tc.rng, v)
				}
			}
			for _, v := range tc.rejects {
				if r.Accepts(mustRuntime(t, v)) {
					t.Errorf("%q accepts %s", tc.rng, v)
				}
			}
		})
	}
}

func mustRuntime(t *testing.T, s string) *RuntimeVersion {
	t.Helper()
	v, err := ParseRuntimeVersion(s)
	if err != nil {
		t.Fatalf("ParseRuntimeVersion(%q): %v", s, err)
	}
	return v
}

func TestRuntimeVersionParse(t *testing.T) {
	for _, ok := range []string{"1.0.0", "v1.2.3", "0.87.1", "2.0.0-rc.1+build.5"} {
		if _, err := ParseRuntimeVersion(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "1", "1.2", "latest", "1.2.3.4", "01.2.3", ">=1.0.0"} {
		if _, err := ParseRuntimeVersion(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestManifestRuntimeValidated(t *testing.T) {
	base := `{"id":"com.example.m","name":"M","version":"1.0.0","mobile":{"entry":"mobile/index.tsx","runtime":%s}}`
	for _, tc := range []struct {
		runtime string
		ok      bool
	}{
		{`">=1.0.0 <2.0.0"`, true},
		{`""`, true},
		{`"^1.x || 3"`, true},
		{`"not a range"`, false},
		{`">= <"`, false},
	} {
		_, err := ParseManifest([]byte(fmt.Sprintf(base, tc.runtime)), nil)
		var pe *Error
		switch {
		case tc.ok && err != nil:
			t.Errorf("runtime %s: %v", tc.runtime, err)
		case !tc.ok && (!errors.As(err, &pe) || pe.Field != "mobile.runtime" || pe.Code != CodeManifestInvalid):
			t.Errorf("runtime %s: %v, want manifest_invalid on mobile.runtime", tc.runtime, err)
		}
	}
}

// FuzzRuntime: ranges come from plugin.json and versions from app queries;
// neither may panic, and a parsed range must answer for any parsed version.
func FuzzRuntime(f *testing.F) {
	for _, s := range []string{"", ">=1.0.0 <2.0.0", "^1.2", "~1.4.0", "1.x", "1.0.0 - 1.5.0", "^1 || ^3", "1.0.0", "v2.0.0-rc.1+b", ">= <", "*"} {
		f.Add(s, "1.2.3")
	}
	f.Fuzz(func(t *testing.T, rng, version string) {
		r, rerr := ParseRuntimeRange(rng)
		v, verr := ParseRuntimeVersion(version)
		if rerr == nil && verr == nil {
			r.Accepts(v)
			_ = v.String()
		}
	})
}
