package pluginpkg

import (
	"fmt"
	"strings"

	"github.com/Masterminds/semver/v3"
)

// maxRuntimeLen bounds mobile.runtime: a range is a few comparators, and
// the HTTP edge matches it on every manifest build.
const maxRuntimeLen = 256

// RuntimeRange is a parsed mobile.runtime: the host runtime versions a
// mobile bundle supports, in npm's range syntax (">=1.2.0 <2.0.0", "^1.2",
// "~1.4.0", "1.x", "1.2.0 - 1.5.0", alternatives joined by "||"). The empty
// range accepts every runtime.
type RuntimeRange struct {
	raw string
	c   *semver.Constraints
}

// ParseRuntimeRange parses a mobile.runtime value.
func ParseRuntimeRange(s string) (RuntimeRange, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return RuntimeRange{}, nil
	}
	if len(s) > maxRuntimeLen {
		return RuntimeRange{}, fmt.Errorf("is %d characters long; at most %d", len(s), maxRuntimeLen)
	}
	c, err := semver.NewConstraint(s)
	if err != nil {
		return RuntimeRange{}, err
	}
	return RuntimeRange{raw: s, c: c}, nil
}

// String is the range as written.
func (r RuntimeRange) String() string { return r.raw }

// Accepts reports whether runtime is inside the range. Prereleases match
// only ranges that name a prerelease of the same version, as in npm.
func (r RuntimeRange) Accepts(runtime *RuntimeVersion) bool {
	return r.c == nil || r.c.Check(runtime.v)
}

// RuntimeVersion is a host runtime version an app reports.
type RuntimeVersion struct{ v *semver.Version }

// ParseRuntimeVersion parses a host runtime version: semver, strictly
// (three numbers, optional prerelease and build, an optional leading "v").
func ParseRuntimeVersion(s string) (*RuntimeVersion, error) {
	v, err := semver.StrictNewVersion(strings.TrimPrefix(s, "v"))
	if err != nil {
		return nil, err
	}
	return &RuntimeVersion{v: v}, nil
}

// String is the version in canonical form (no "v").
func (v *RuntimeVersion) String() string { return v.v.String() }

// checkRuntime validates mobile.runtime.
func checkRuntime(s string) error {
	if _, err := ParseRuntimeRange(s); err != nil {
		return invalid("mobile.runtime", "%q is not a version range (%v); write one like \">=1.0.0 <2.0.0\" or \"^1.2\", or leave it out to accept every host runtime", s, err)
	}
	return nil
}
