// Package pluginpkg reads plugin packages: a directory or a .tar.gz holding
// plugin.json (a superset of Mattermost's manifest), TSX/TS/JSX/JS sources,
// assets and the npm code the plugin carries in node_modules/.
//
// ReadArchive reads a pushed .tar.gz and ReadDir a directory on disk; both
// return the same validated *Package. ParseManifest and Manifest.Validate
// check plugin.json on its own, WriteArchive writes the deterministic
// .tar.gz that `mmtoolkit pack` uploads, and Package.SHA256 identifies a
// package's contents independently of how they were archived.
//
// Everything here is outside input. Readers enforce the limits of SPEC section
// 3 while reading (never after), and every problem is an *Error with a stable
// Code that the HTTP edge maps to a 4xx status.
package pluginpkg

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Manifest is plugin.json. Fields Mattermost knows keep Mattermost's names and
// rules; Mobile, Slots and Proxy are mmtoolkit's additions.
type Manifest struct {
	ID               string          `json:"id"`
	Name             string          `json:"name"`
	Version          string          `json:"version"`
	Description      string          `json:"description,omitempty"`
	HomepageURL      string          `json:"homepage_url,omitempty"`
	SupportURL       string          `json:"support_url,omitempty"`
	ReleaseNotesURL  string          `json:"release_notes_url,omitempty"`
	IconPath         string          `json:"icon_path,omitempty"`
	Screenshots      []string        `json:"screenshots,omitempty"` // mmtoolkit's: images the directory shows
	MinServerVersion string          `json:"min_server_version,omitempty"`
	Server           json.RawMessage `json:"server,omitempty"`
	Webapp           *Webapp         `json:"webapp,omitempty"`
	Mobile           *Mobile         `json:"mobile,omitempty"`
	Slots            []SlotDecl      `json:"slots,omitempty"`
	Proxy            []ProxyRoute    `json:"proxy,omitempty"`
	KV               *KVSettings     `json:"kv,omitempty"`
	SettingsSchema   json.RawMessage `json:"settings_schema,omitempty"`
	Props            json.RawMessage `json:"props,omitempty"`
}

// Webapp says how the web bundle is made: compiled from Entry by the server,
// or a prebuilt Mattermost bundle at BundlePath served unchanged. Exactly one
// of the two is set.
type Webapp struct {
	Entry      string `json:"entry,omitempty"`
	BundlePath string `json:"bundle_path,omitempty"`
}

// Mobile names the React Native entry. Runtime is the range of host runtime
// versions (semver range such as ">=1.0.0 <2.0.0") the bundle supports; empty
// means any.
type Mobile struct {
	Entry   string `json:"entry"`
	Runtime string `json:"runtime,omitempty"`
}

// SlotDecl is one slot the plugin fills. PostType is set for slot post_type
// and must start with "custom_".
type SlotDecl struct {
	Slot     string `json:"slot"`
	PostType string `json:"post_type,omitempty"`
}

// ProxyRoute is one upstream Mattermost route the plugin may call through the
// proxy. Path is under /api/v4/ and may use {name} segments and a trailing /*.
type ProxyRoute struct {
	Method string `json:"method"`
	Path   string `json:"path"`
}

// KVSettings configure the plugin's key-value store. TeamWrite says who may
// write team-scoped keys: "admins" (the team's admins; the default) or
// "members" (every member of the team).
type KVSettings struct {
	TeamWrite string `json:"team_write,omitempty"`
}

// TeamMembersWrite reports whether every team member may write the plugin's
// team-scoped keys.
func (m *Manifest) TeamMembersWrite() bool { return m.KV != nil && m.KV.TeamWrite == "members" }

// Package is a read, validated plugin package held in memory.
type Package struct {
	Manifest Manifest
	// RawManifest is plugin.json exactly as read.
	RawManifest []byte
	// Files maps slash-separated paths relative to the plugin root (the
	// archive's single top-level directory is stripped, as Mattermost does)
	// to their contents. plugin.json is included.
	Files map[string][]byte
	// Signature is the plugin.sig found at the plugin root, as read (nil
	// when there is none). It is not in Files and so not in SHA256, the
	// digest it signs; ParseSignature reads it.
	Signature []byte
	// Server is the Mattermost server part an archive carries: every file
	// under server/dist/ and each file the manifest's server section names,
	// by path relative to the plugin root. The server installs it on the
	// upstream Mattermost (it never runs it itself). Not in Files, so no
	// compile or served file ever sees it; it is part of SHA256, so a
	// signature covers it. nil when there is none, and always nil from
	// ReadDir (a folder is packed from its sources: see `mmtoolkit pack`).
	Server map[string][]byte
	// Warnings are problems that do not stop the push, such as server
	// executables ReadDir leaves out.
	Warnings []string
}

// Limits bound what a reader accepts. Zero fields take DefaultLimits' value.
//
// The entry and name limits exist because a name costs memory and work
// without costing archive bytes: a 1 MiB name compresses to about a
// kilobyte, and every entry and directory is remembered until the package is
// assembled. With them, what one package makes the server hold and do is
// bounded by the limits, not by the compression ratio.
type Limits struct {
	MaxArchiveBytes  int64 // compressed .tar.gz size
	MaxUnpackedBytes int64 // sum of file sizes after unpacking (the tar stream may add headers: MaxNameBytes and 2 KiB an entry)
	MaxFiles         int   // regular files
	MaxManifestBytes int64 // plugin.json size
	// MaxEntries counts every entry: files, directories (each listed entry,
	// a repeated one too, and each directory only implied by a path) and
	// tar metadata entries.
	MaxEntries int
	// MaxNameBytes bounds the names kept: the bytes of every file's path
	// and every listed directory's, added together (a directory only
	// implied by a path shares that path's bytes).
	MaxNameBytes int64
	// MaxPathBytes bounds one entry name as written in the archive;
	// MaxPathDepth the segments of one path (a/b/c is 3). A segment is at
	// most MaxSegmentBytes whatever the limits.
	MaxPathBytes int
	MaxPathDepth int
	// MaxBundleBytes bounds a prebuilt webapp.bundle_path file and its
	// .map: they are stored and served as they are, not rebuilt.
	MaxBundleBytes int64

	// Reserve, when set, is called with the size of each file a reader is
	// about to read and keep in memory, before any of its bytes are read;
	// an error stops the read and is returned as it is. It is how the
	// server charges what a push holds to its memory budget for pushes in
	// flight. Not a limit: withDefaults leaves it as it is.
	Reserve func(n int64) error
}

// DefaultLimits are SPEC section 3's limits. The path limits leave room for
// real packages: the deepest path of the project's own node_modules trees
// (webapp, mobile, plugins: 44,000 paths) is 15 segments and 206 bytes, its
// longest segment 73 bytes, and those trees hold one directory for every 5
// to 9 files.
var DefaultLimits = Limits{
	MaxArchiveBytes:  100 << 20,
	MaxUnpackedBytes: 300 << 20,
	MaxFiles:         5000,
	MaxManifestBytes: 1 << 20,
	MaxEntries:       10_000,
	MaxNameBytes:     2 << 20,
	MaxPathBytes:     1024,
	MaxPathDepth:     32,
	MaxBundleBytes:   20 << 20,
}

// MaxSegmentBytes bounds one segment of a path (a file or directory name):
// 255 bytes is what common file systems (ext4, APFS, NTFS) store.
const MaxSegmentBytes = 255

// Error codes. They are part of the HTTP API: never rename one.
const (
	CodeArchiveTooLarge  = "archive_too_large"  // compressed archive over MaxArchiveBytes
	CodeUnpackedTooLarge = "unpacked_too_large" // files add up to more than MaxUnpackedBytes
	CodeTooManyFiles     = "too_many_files"     // more than MaxFiles regular files
	CodeAbsolutePath     = "absolute_path"      // an entry name starting with / or a drive letter
	CodePathTraversal    = "path_traversal"     // an entry name with a .. segment
	CodeLinkEntry        = "link_entry"         // a symlink or hard link
	CodeDeviceEntry      = "device_entry"       // a char/block device, fifo or other special entry
	CodeDuplicateEntry   = "duplicate_entry"    // the same path twice
	CodeBadArchive       = "bad_archive"        // not gzip, not tar, or truncated
	CodeManifestMissing  = "manifest_missing"   // no plugin.json at the plugin root
	CodeManifestTooLarge = "manifest_too_large" // plugin.json over MaxManifestBytes
	CodeManifestSyntax   = "manifest_syntax"    // plugin.json is not valid JSON for Manifest
	CodeManifestInvalid  = "manifest_invalid"   // a field breaks a rule; Error.Field names it
	CodeEntryMissing     = "entry_missing"      // webapp.entry, mobile.entry, bundle_path, icon_path or a screenshot names no file in the package
	CodeImageInvalid     = "image_invalid"      // icon_path or a screenshot is not a PNG, JPEG, WebP or SVG image matching its extension
	CodeImageTooLarge    = "image_too_large"    // icon_path over MaxIconBytes or a screenshot over MaxScreenshotBytes
	CodePathTooLong      = "path_too_long"      // an entry name over MaxPathBytes, or a segment over MaxSegmentBytes
	CodePathTooDeep      = "path_too_deep"      // an entry path of more than MaxPathDepth segments
	CodeTooManyEntries   = "too_many_entries"   // more than MaxEntries entries, directories included
	CodeNamesTooLarge    = "names_too_large"    // the paths add up to more than MaxNameBytes
	CodeBundleTooLarge   = "bundle_too_large"   // a prebuilt webapp.bundle_path (or its .map) over MaxBundleBytes
)

// Error is a problem with a package. File names the archive entry or package
// file concerned, Field the manifest field, Limit the limit that was passed.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	File    string `json:"file,omitempty"`
	Field   string `json:"field,omitempty"`
	Limit   int64  `json:"limit,omitempty"`
}

func (e *Error) Error() string {
	if e.File != "" && !strings.Contains(e.Message, e.File) {
		return fmt.Sprintf("pluginpkg: %s: %s", e.File, e.Message)
	}
	return "pluginpkg: " + e.Message
}

// SlotCatalogue tells whether a slot name exists. slots.Known satisfies it;
// the parameter keeps this package free of the catalogue's import.
type SlotCatalogue func(name string) bool
