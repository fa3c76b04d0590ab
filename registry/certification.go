package registry

import (
	"fmt"
	"strings"
)

// Certification is how far a plugin version is vouched for, from Unverified
// (nobody vouches: the zero value, and the level of every version stored
// before certification existed) up to Official. Levels are ordered: a
// version meets a minimum when its level is at least that minimum.
//
// A version's level is decided once, at push, by the key that signed the
// package (the server trusts each key for one level); the reference plugins
// the binary carries are Official without a signature.
type Certification uint8

// The levels, lowest first.
const (
	Unverified Certification = iota // unsigned, or stored before signing existed
	Community                       // signed with a key the server trusts for community plugins
	Certified                       // signed with a key trusted for certified plugins
	Official                        // signed with an official key, or built into the binary
)

// Certifications lists every level, highest first (the order a directory
// filter shows them in).
var Certifications = []Certification{Official, Certified, Community, Unverified}

var certificationNames = [...]string{
	Unverified: "unverified",
	Community:  "community",
	Certified:  "certified",
	Official:   "official",
}

// String is the level's name as the API and the CLI spell it.
func (c Certification) String() string {
	if int(c) < len(certificationNames) {
		return certificationNames[c]
	}
	return fmt.Sprintf("Certification(%d)", uint8(c))
}

// Valid reports whether c is one of the four levels.
func (c Certification) Valid() bool { return int(c) < len(certificationNames) }

// Meets reports whether c is at least min.
func (c Certification) Meets(min Certification) bool { return c >= min }

// ParseCertification reads a level's name, case-insensitively.
func ParseCertification(s string) (Certification, error) {
	for c, name := range certificationNames {
		if strings.EqualFold(strings.TrimSpace(s), name) {
			return Certification(c), nil
		}
	}
	return Unverified, fmt.Errorf("unknown certification level %q: use official, certified, community or unverified", s)
}

// MarshalText writes the level's name, so JSON holds "certified", not 2.
func (c Certification) MarshalText() ([]byte, error) {
	if !c.Valid() {
		return nil, fmt.Errorf("registry: %w: certification %d", ErrInvalid, uint8(c))
	}
	return []byte(c.String()), nil
}

// UnmarshalText reads a level's name; "" is Unverified (records written
// before the field existed have none).
func (c *Certification) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*c = Unverified
		return nil
	}
	v, err := ParseCertification(string(b))
	if err != nil {
		return fmt.Errorf("registry: %w", err)
	}
	*c = v
	return nil
}
