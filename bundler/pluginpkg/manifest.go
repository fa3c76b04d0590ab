package pluginpkg

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"path"
	"regexp"
	"strings"
	"unicode/utf8"

	"golang.org/x/mod/semver"
)

// Manifest limits. The id rules are Mattermost's; the others are ours, to
// keep directory listings sane.
const (
	minIDLen          = 3
	maxIDLen          = 190
	maxNameLen        = 256
	maxDescriptionLen = 4096
	customPostPrefix  = "custom_"
)

// Limits on the manifest's arrays. Every client of a team where the plugin
// is enabled receives its slots in the slot manifest, and the proxy matches
// each call against its routes, so a 1 MiB plugin.json of slots or routes
// would cost every page load and every proxied call; these leave real
// plugins (the reference ones declare at most 6 slots and 2 routes) far
// below them.
const (
	MaxSlots          = 256
	MaxPostTypeLen    = 128
	MaxProxyRoutes    = 256
	MaxProxyPathBytes = 512
)

var (
	idPattern       = regexp.MustCompile(`^[a-zA-Z0-9-_\.]+$`)
	paramPattern    = regexp.MustCompile(`^\{[A-Za-z_][A-Za-z0-9_]*\}$`)
	literalPattern  = regexp.MustCompile(`^[A-Za-z0-9._~-]+$`)
	entryExtensions = []string{".tsx", ".ts", ".jsx", ".js", ".mjs", ".cjs"}
	proxyMethods    = []string{"GET", "POST", "PUT", "PATCH", "DELETE"}
	proxyPathPrefix = "/api/v4/"
)

// ParseManifest decodes plugin.json and validates it (see Validate). Unknown
// fields are allowed: Mattermost's manifest has many that mmtoolkit does not
// use. Invalid JSON or a field of the wrong type is CodeManifestSyntax with
// the line and column in the message.
func ParseManifest(data []byte, known SlotCatalogue) (*Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, syntaxError(data, err)
	}
	if err := m.Validate(known); err != nil {
		return nil, err
	}
	return &m, nil
}

// syntaxError turns a decoding error into a CodeManifestSyntax *Error that
// points at the offending place.
func syntaxError(data []byte, err error) *Error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case len(bytes.TrimSpace(data)) == 0:
		return &Error{Code: CodeManifestSyntax, Message: "plugin.json is empty; it must hold a JSON object with at least id, name, version and webapp or mobile"}
	case errors.As(err, &se):
		line, col := position(data, se.Offset)
		return &Error{Code: CodeManifestSyntax,
			Message: fmt.Sprintf("plugin.json is not valid JSON at line %d, column %d (offset %d): %v", line, col, se.Offset, se)}
	case errors.As(err, &te):
		line, col := position(data, te.Offset)
		where := "the manifest"
		if te.Field != "" {
			where = fmt.Sprintf("field %q", te.Field)
		}
		return &Error{Code: CodeManifestSyntax, Field: te.Field,
			Message: fmt.Sprintf("plugin.json: %s must not be a JSON %s (line %d, column %d, offset %d); see SPEC section 3 for the manifest's shape", where, te.Value, line, col, te.Offset)}
	}
	return &Error{Code: CodeManifestSyntax, Message: fmt.Sprintf("plugin.json is not valid JSON: %v", err)}
}

// position converts the offset encoding/json reports (the bytes read when
// the error was found, so the offending byte is the last of them) into the
// 1-based line and column (in bytes) of that byte.
func position(data []byte, offset int64) (line, col int) {
	offset--
	if offset > int64(len(data)) {
		offset = int64(len(data))
	}
	if offset < 0 {
		offset = 0
	}
	before := data[:offset]
	line = bytes.Count(before, []byte{'\n'}) + 1
	col = int(offset) - (bytes.LastIndexByte(before, '\n') + 1) + 1
	return line, col
}

// invalid builds a CodeManifestInvalid error for field.
func invalid(field, format string, args ...any) *Error {
	return &Error{Code: CodeManifestInvalid, Field: field, Message: field + ": " + fmt.Sprintf(format, args...)}
}

// Validate checks m against Mattermost's manifest rules and mmtoolkit's
// additions and normalises it the way Mattermost does on load: the id is
// lower-cased, proxy methods upper-cased and a leading "./" is removed from
// file paths. The first problem found is returned as a CodeManifestInvalid
// *Error whose Field is the JSON path of the field ("slots[2].post_type").
// known checks slot names; nil accepts any non-empty name.
func (m *Manifest) Validate(known SlotCatalogue) error {
	// Mattermost rules.
	switch n := len(m.ID); {
	case n == 0:
		return invalid("id", "is required; use a reverse-DNS name such as com.example.map")
	case n < minIDLen || n > maxIDLen:
		e := invalid("id", "must be %d to %d characters long, not %d", minIDLen, maxIDLen, n)
		e.Limit = maxIDLen
		return e
	case !idPattern.MatchString(m.ID):
		return invalid("id", "%q may contain only letters, digits, '-', '_' and '.'", m.ID)
	}
	m.ID = strings.ToLower(m.ID)

	if strings.TrimSpace(m.Name) == "" {
		return invalid("name", "is required; give the plugin a display name")
	}
	if n := utf8.RuneCountInString(m.Name); n > maxNameLen {
		e := invalid("name", "must be at most %d characters long, not %d", maxNameLen, n)
		e.Limit = maxNameLen
		return e
	}
	if m.Version == "" {
		return invalid("version", "is required; use semantic versioning such as 1.2.0")
	}
	if err := checkSemver("version", m.Version); err != nil {
		return err
	}
	if m.MinServerVersion != "" {
		if err := checkSemver("min_server_version", m.MinServerVersion); err != nil {
			return err
		}
	}
	for _, u := range []struct{ field, value string }{
		{"homepage_url", m.HomepageURL},
		{"support_url", m.SupportURL},
		{"release_notes_url", m.ReleaseNotesURL},
	} {
		if err := checkURL(u.field, u.value); err != nil {
			return err
		}
	}
	if n := utf8.RuneCountInString(m.Description); n > maxDescriptionLen {
		e := invalid("description", "must be at most %d characters long, not %d; link to longer documentation with homepage_url", maxDescriptionLen, n)
		e.Limit = maxDescriptionLen
		return e
	}
	if m.IconPath != "" {
		if err := checkRelPath("icon_path", &m.IconPath); err != nil {
			return err
		}
	}
	if err := checkScreenshots(m.Screenshots); err != nil {
		return err
	}
	if err := checkServer(m.Server); err != nil {
		return err
	}

	// mmtoolkit's additions.
	if m.Webapp == nil && m.Mobile == nil {
		return invalid("webapp", "a plugin needs webapp or mobile (or both): mmtoolkit serves client plugins, and a server-only plugin has nothing to serve")
	}
	if w := m.Webapp; w != nil {
		switch {
		case w.Entry == "" && w.BundlePath == "":
			return invalid("webapp", "needs entry (sources mmtoolkit compiles) or bundle_path (a prebuilt Mattermost bundle)")
		case w.Entry != "" && w.BundlePath != "":
			return invalid("webapp", "has both entry and bundle_path; keep entry to have mmtoolkit compile the sources, or bundle_path to serve a prebuilt bundle")
		case w.Entry != "":
			if err := checkEntry("webapp.entry", &w.Entry); err != nil {
				return err
			}
		default:
			if err := checkRelPath("webapp.bundle_path", &w.BundlePath); err != nil {
				return err
			}
			if !strings.HasSuffix(w.BundlePath, ".js") {
				return invalid("webapp.bundle_path", "%q must name a .js bundle", w.BundlePath)
			}
		}
	}
	if mo := m.Mobile; mo != nil {
		if mo.Entry == "" {
			return invalid("mobile.entry", "is required when mobile is set; name the React Native entry source")
		}
		if err := checkEntry("mobile.entry", &mo.Entry); err != nil {
			return err
		}
		if err := checkRuntime(mo.Runtime); err != nil {
			return err
		}
	}
	if err := checkSlots(m.Slots, known); err != nil {
		return err
	}
	if m.KV != nil && m.KV.TeamWrite != "" && m.KV.TeamWrite != "admins" && m.KV.TeamWrite != "members" {
		return invalid("kv.team_write", "%q is not allowed; use \"admins\" (the default) or \"members\"", m.KV.TeamWrite)
	}
	return checkProxy(m.Proxy)
}

// checkSemver requires strict semantic versioning: three numeric parts, an
// optional prerelease and build, and no "v" prefix (Mattermost's format).
func checkSemver(field, v string) error {
	if strings.HasPrefix(v, "v") || strings.HasPrefix(v, "V") {
		return invalid(field, "%q must not start with \"v\"; write it as %s", v, v[1:])
	}
	sv := "v" + v
	core := strings.TrimSuffix(strings.TrimSuffix(sv, semver.Build(sv)), semver.Prerelease(sv))
	if !semver.IsValid(sv) || strings.Count(core, ".") != 2 {
		return invalid(field, "%q is not a semantic version; use MAJOR.MINOR.PATCH such as 1.2.0 (a prerelease such as 1.2.0-beta.1 is allowed)", v)
	}
	return nil
}

func checkURL(field, v string) error {
	if v == "" {
		return nil
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return invalid(field, "%q must be an absolute http:// or https:// URL", v)
	}
	return nil
}

// checkRelPath requires a clean slash-separated path inside the package,
// removing a leading "./" that existing Mattermost manifests sometimes have.
func checkRelPath(field string, p *string) error {
	v := *p
	for strings.HasPrefix(v, "./") {
		v = v[2:]
	}
	switch {
	case v == "":
		return invalid(field, "names no file; give a path relative to the plugin root")
	case isAbs(v):
		return invalid(field, "%q is absolute; give a path relative to the plugin root", *p)
	case strings.Contains(v, `\`):
		return invalid(field, "%q contains a backslash; separate directories with /", *p)
	case v != path.Clean(v) || v == "..":
		return invalid(field, "%q is not a clean path; remove \"..\", \".\", doubled and trailing slashes", *p)
	}
	for _, seg := range strings.Split(v, "/") {
		if seg == ".." {
			return invalid(field, "%q leaves the plugin root; give a path inside it", *p)
		}
	}
	*p = v
	return nil
}

// checkEntry checks a source entry: a clean path with an extension esbuild
// compiles.
func checkEntry(field string, p *string) error {
	if err := checkRelPath(field, p); err != nil {
		return err
	}
	for _, ext := range entryExtensions {
		if strings.HasSuffix(*p, ext) {
			return nil
		}
	}
	return invalid(field, "%q must end in one of %s", *p, strings.Join(entryExtensions, " "))
}

// checkServer only checks the shape of Mattermost's server section:
// mmtoolkit ignores server executables but still needs their paths.
func checkServer(raw json.RawMessage) error {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var s serverSection
	if err := json.Unmarshal(raw, &s); err != nil {
		return invalid("server", "must be an object with executables (platform -> path) and executable (path), as in Mattermost's manifest")
	}
	return nil
}

func checkSlots(slots []SlotDecl, known SlotCatalogue) error {
	if len(slots) > MaxSlots {
		e := invalid("slots", "has %d entries; at most %d slots may be declared", len(slots), MaxSlots)
		e.Limit = MaxSlots
		return e
	}
	seen := make(map[SlotDecl]int, len(slots))
	for i, s := range slots {
		field := fmt.Sprintf("slots[%d]", i)
		switch {
		case s.Slot == "":
			return invalid(field+".slot", "is required; name a slot of the catalogue")
		case known != nil && !known(s.Slot):
			return invalid(field+".slot", "%q is not a known slot; use a slot name from the slot catalogue", s.Slot)
		case s.Slot == "post_type" && s.PostType == "":
			return invalid(field+".post_type", "is required on slot post_type; name the post type the plugin renders, such as custom_map_location")
		case s.Slot == "post_type" && len(s.PostType) > MaxPostTypeLen:
			e := invalid(field+".post_type", "is %d bytes; a post type is at most %d", len(s.PostType), MaxPostTypeLen)
			e.Limit = MaxPostTypeLen
			return e
		case s.Slot == "post_type":
			if !strings.HasPrefix(s.PostType, customPostPrefix) || len(s.PostType) == len(customPostPrefix) {
				return invalid(field+".post_type", "%q must start with %q and name the post type, such as custom_map_location (Mattermost's rule for plugin post types)", s.PostType, customPostPrefix)
			}
		case s.PostType != "":
			return invalid(field+".post_type", "is only allowed on slot post_type, not %q", s.Slot)
		}
		if j, dup := seen[s]; dup {
			return invalid(field, "repeats slots[%d]; declare each slot once", j)
		}
		seen[s] = i
	}
	return nil
}

func checkProxy(routes []ProxyRoute) error {
	if len(routes) > MaxProxyRoutes {
		e := invalid("proxy", "has %d routes; at most %d may be declared (use {name} parameters and a final /* to cover many paths)", len(routes), MaxProxyRoutes)
		e.Limit = MaxProxyRoutes
		return e
	}
	for i := range routes {
		r := &routes[i]
		field := fmt.Sprintf("proxy[%d]", i)
		method := strings.ToUpper(r.Method)
		allowed := false
		for _, m := range proxyMethods {
			allowed = allowed || method == m
		}
		if !allowed {
			return invalid(field+".method", "%q is not allowed; use one of %s", r.Method, strings.Join(proxyMethods, " "))
		}
		r.Method = method
		if err := checkProxyPath(field+".path", r.Path); err != nil {
			return err
		}
	}
	return nil
}

// checkProxyPath keeps route patterns simple enough that the proxy's matcher
// cannot be tricked: literal segments of unreserved URL characters, {name}
// parameters, and "*" only as the last segment.
func checkProxyPath(field, p string) error {
	if len(p) > MaxProxyPathBytes {
		e := invalid(field, "is %d bytes; a route is at most %d", len(p), MaxProxyPathBytes)
		e.Limit = MaxProxyPathBytes
		return e
	}
	if !strings.HasPrefix(p, proxyPathPrefix) {
		return invalid(field, "%q must start with %s: only Mattermost's REST API can be proxied", p, proxyPathPrefix)
	}
	if strings.ContainsAny(p, "?#") {
		return invalid(field, "%q must not have a query string or fragment; give the path only", p)
	}
	segs := strings.Split(strings.TrimPrefix(p, proxyPathPrefix), "/")
	for i, seg := range segs {
		switch {
		case seg == "*" && i == len(segs)-1:
		case seg == "*":
			return invalid(field, "%q: * is allowed only as the last segment", p)
		case seg == "":
			return invalid(field, "%q has an empty segment; remove doubled or trailing slashes", p)
		case seg == "." || seg == "..":
			return invalid(field, "%q must not contain %q segments", p, seg)
		case strings.HasPrefix(seg, "{"):
			if !paramPattern.MatchString(seg) {
				return invalid(field, "%q: parameter %q must be {name} with a name of letters, digits and _", p, seg)
			}
		case !literalPattern.MatchString(seg):
			return invalid(field, "%q: segment %q may contain only letters, digits and - . _ ~ (no percent-encoding)", p, seg)
		}
	}
	return nil
}
