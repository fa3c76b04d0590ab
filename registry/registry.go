// Package registry stores plugins, their immutable versions, the bundles those
// versions point to (content-addressed by SHA-256, stored once however many
// versions share them), each id's owner, per-team state and an append-only
// audit log.
//
// Store is the interface callers use; Open returns *Bolt, the bbolt
// implementation and the default; OpenPostgres returns *Postgres, the same
// semantics on PostgreSQL for several processes sharing one registry, with
// a change log they follow (postgres.go). A version is written by one
// PutVersion call in one transaction, so a crash mid-push leaves the whole
// version or none of it. Both also offer what only operators need (Stats,
// Verify, PluginTeamStates); callers that want those declare their own
// small interface. Package registrytest opens real stores in tests; the
// registry's own tests run on both (suite_test.go).
//
// The two stores share one plan for each write: what a write requires of
// its arguments (checkPut, checkTeamState, checkEmbedToken, ...), what it
// decides from what is stored (planRepush, planBlobs, planKVPut,
// planPrune, ...) and the records and audit entry it writes
// (planNewVersion, planTeamState, pruneAudit, ...) are one function each,
// which both call; each store then reads what the plan needs and writes it
// in its own transaction (a bbolt update, a PostgreSQL transaction with its
// row locks and change row). Verify shares its checks the same way
// (verifier). The plans' own tests are plan_test.go.
package registry

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/mmtoolkit/mmtoolkit/bundler/pluginpkg"
)

// Sentinel errors. Callers test them with errors.Is.
var (
	// ErrPluginNotFound is returned when no plugin has the requested id.
	ErrPluginNotFound = errors.New("plugin not found")
	// ErrVersionNotFound is returned when the plugin has no such version.
	ErrVersionNotFound = errors.New("version not found")
	// ErrBlobNotFound is returned when no blob has the requested SHA-256.
	ErrBlobNotFound = errors.New("blob not found")
	// ErrVersionConflict is returned when a version already exists with
	// different content (a different PackageSHA256).
	ErrVersionConflict = errors.New("version exists with different content")
	// ErrNotOwner is returned when someone other than the id's owner (its
	// first pusher) or a system admin pushes a version of it.
	ErrNotOwner = errors.New("not the plugin's owner")
	// ErrMissingBlob is returned by PutVersion when an artifact names a blob
	// that is neither passed in nor already stored.
	ErrMissingBlob = errors.New("artifact blob missing")
	// ErrClosed is returned after Close.
	ErrClosed = errors.New("registry closed")
	// ErrBlobMismatch is returned by PutVersion when a blob passed in does
	// not hash to the SHA-256 it is keyed by.
	ErrBlobMismatch = errors.New("blob does not match its SHA-256")
	// ErrInvalid is returned when a caller passes a malformed record: an
	// empty id or actor, a version that is not semver, a SHA-256 that is not
	// 64 lowercase hex digits, an artifact size that differs from its blob.
	// pluginpkg validates what users send, so this means a caller's bug.
	ErrInvalid = errors.New("invalid record")
	// ErrCorrupt is returned by Bolt.Verify when the file breaks one of the
	// store's invariants.
	ErrCorrupt = errors.New("store is inconsistent")
	// ErrLocked is returned by Open when another process holds the
	// database file (bbolt allows one writer process per file).
	ErrLocked = errors.New("database is locked by another mmtoolkit process?")
)

// Artifact is one file a version serves, by the SHA-256 of its bytes
// (lowercase hex). Encodings maps a content coding ("gzip", "br") to the
// SHA-256 of the precompressed blob, computed once at push time.
type Artifact struct {
	SHA256      string            `json:"sha256"`
	Size        int64             `json:"size"`
	ContentType string            `json:"content_type"`
	Encodings   map[string]string `json:"encodings,omitempty"`
	// EncodedSizes maps a content coding to the precompressed size.
	EncodedSizes map[string]int64 `json:"encoded_sizes,omitempty"`
	// Key is, for a source map, the name its bundle's sourceMappingURL
	// gives it (bundler.Result.SourceMapKey: known before the map is built,
	// so it is not the map's SHA-256). "" for other artifacts and for maps
	// stored before keys existed, whose bundles name them by SHA-256.
	Key string `json:"key,omitempty"`
}

// Artifact kinds, the keys of Version.Artifacts.
const (
	WebJS        = "web.js"
	WebMap       = "web.map"
	MobileJS     = "mobile.js"
	MobileMap    = "mobile.map"
	MobileHermes = "mobile.hbc"
)

// SourceMapOf is the kind of the source map of each bundle kind that has
// one.
var SourceMapOf = map[string]string{WebJS: WebMap, MobileJS: MobileMap}

// Version is one immutable pushed version of a plugin.
type Version struct {
	PluginID string `json:"plugin_id"`
	Version  string `json:"version"`
	// Manifest is the parsed plugin.json; RawManifest the bytes as pushed.
	Manifest    pluginpkg.Manifest `json:"manifest"`
	RawManifest json.RawMessage    `json:"raw_manifest,omitempty"`
	// PackageSHA256 identifies the pushed content: a re-push with the same
	// value is idempotent, another value for the same version conflicts.
	PackageSHA256 string `json:"package_sha256"`
	// Artifacts by kind (WebJS, WebMap, MobileJS, ...).
	Artifacts map[string]Artifact `json:"artifacts"`
	// HostModules the web bundle imports (for prebuilt bundles, the globals
	// it references).
	HostModules []string `json:"host_modules,omitempty"`
	// Prebuilt is true when the web bundle is a Mattermost bundle served
	// unchanged rather than compiled here.
	Prebuilt bool `json:"prebuilt,omitempty"`
	// Certification is the level the package's signature earned at push
	// (Unverified for an unsigned package); SignerKey is the fingerprint
	// (pluginpkg.KeyFingerprint) of the key that signed it, or "builtin"
	// for a reference plugin the binary carries.
	Certification Certification `json:"certification"`
	SignerKey     string        `json:"signer_key,omitempty"`
	Warnings      []string      `json:"warnings,omitempty"`
	PushedBy      string        `json:"pushed_by"`
	PushedAt      time.Time     `json:"pushed_at"`
	BuildMS       float64       `json:"build_ms"`
	EsbuildMS     float64       `json:"esbuild_ms"`
}

// Plugin is a plugin id with its owner and versions.
type Plugin struct {
	ID        string    `json:"id"`
	Owner     string    `json:"owner"`
	CreatedAt time.Time `json:"created_at"`
	// Versions sorted by semver, lowest first.
	Versions []string `json:"versions"`
	// Latest is the highest semver version.
	Latest string `json:"latest"`
}

// TeamState is a plugin's state for one team. The zero value (disabled,
// following latest) is the state of every plugin a team never touched.
type TeamState struct {
	TeamID   string `json:"team_id"`
	PluginID string `json:"plugin_id"`
	Enabled  bool   `json:"enabled"`
	// Version pins a version; empty follows the latest.
	Version   string    `json:"version,omitempty"`
	UpdatedBy string    `json:"updated_by,omitempty"`
	UpdatedAt time.Time `json:"updated_at,omitempty"`
	// Served is, for SetTeamState, the version the team serves after the
	// change (enable, pin) or served before it (disable), as the server
	// decides it (the pin, else the latest release at or above its
	// minimum certification). It goes in the audit entry when no pin names
	// a version, so the log says which version an enable or a disable
	// concerned; it is not stored with the state.
	Served string `json:"-"`
}

// Audit actions.
const (
	ActionPush    = "push"
	ActionEnable  = "enable"
	ActionDisable = "disable"
	ActionPin     = "pin"
	// ActionCertify records an identical re-push that raised a stored
	// version's certification (say, the same package signed by a certifier).
	ActionCertify = "certify"
)

// AuditEntry is one line of the append-only audit log.
type AuditEntry struct {
	Seq      uint64    `json:"seq"`
	At       time.Time `json:"at"`
	Actor    string    `json:"actor"`
	Action   string    `json:"action"`
	PluginID string    `json:"plugin_id,omitempty"`
	Version  string    `json:"version,omitempty"`
	TeamID   string    `json:"team_id,omitempty"`
	Detail   string    `json:"detail,omitempty"`
	// Versions lists the versions an ActionPrune entry removed.
	Versions []string `json:"versions,omitempty"`
}

// AuditFilter selects audit entries; empty fields match everything. Entries
// come newest first, at most Limit (0 means 100).
type AuditFilter struct {
	Actor, PluginID, TeamID string
	Limit                   int
}

// Pusher is who pushes a version.
type Pusher struct {
	UserID      string
	SystemAdmin bool
}

// PutResult says what PutVersion did.
type PutResult struct {
	// Created is false when an identical version already existed (the push
	// was idempotent and nothing was written).
	Created bool
	// Certified is true when an identical re-push carried a higher
	// certification than the stored version's, and raised it.
	Certified bool
	Version   *Version
}

// Store is the registry. Every method is safe for concurrent use.
type Store interface {
	// PutVersion stores v and the blobs (SHA-256 hex -> bytes) its artifacts
	// name, checks ownership and appends an audit entry, all in one
	// transaction. Blobs already stored are not written again.
	PutVersion(ctx context.Context, v *Version, blobs map[string][]byte, by Pusher) (PutResult, error)
	Plugin(ctx context.Context, id string) (*Plugin, error)
	// Plugins lists every plugin sorted by id.
	Plugins(ctx context.Context) ([]*Plugin, error)
	Version(ctx context.Context, pluginID, version string) (*Version, error)
	// Blob returns a copy of the blob's bytes.
	Blob(ctx context.Context, sha256 string) ([]byte, error)
	// TeamStates returns the team's state for every plugin it ever changed,
	// by plugin id.
	TeamStates(ctx context.Context, teamID string) (map[string]TeamState, error)
	// PluginTeamStates returns, by team id, the plugin's state in every team
	// that ever changed it.
	PluginTeamStates(ctx context.Context, pluginID string) (map[string]TeamState, error)
	// SetTeamState writes s (UpdatedAt set by the store) and its audit
	// entry in one transaction. s.UpdatedBy is the actor and must be set. A
	// pinned version must exist. Setting the state a team already has writes
	// nothing and returns the stored state.
	SetTeamState(ctx context.Context, s TeamState) (TeamState, error)
	Audit(ctx context.Context, f AuditFilter) ([]AuditEntry, error)
	Close() error
}

// Options configure Open. A nil *Options means the zero value.
type Options struct {
	// Clock stamps PushedAt, UpdatedAt and audit entries; nil means
	// time.Now. Tests pass a fixed clock for stable output.
	Clock func() time.Time
	// NoSync skips fsync on commit. Only for tests and benchmarks: a power
	// loss can then lose or corrupt committed versions.
	NoSync bool
	// LockTimeout bounds the wait for the file lock held by another process;
	// 0 means one second. Open then fails with ErrLocked.
	LockTimeout time.Duration
	// MaxConns bounds OpenPostgres's connection pool; 0 means
	// DefaultMaxConns.
	MaxConns int32
	// StatementTimeout bounds one statement of OpenPostgres's store; 0
	// means DefaultStatementTimeout.
	StatementTimeout time.Duration
}

// Stats are the store's sizes, for /metrics.
type Stats struct {
	Plugins  int `json:"plugins"`
	Versions int `json:"versions"`
	Blobs    int `json:"blobs"`
	// BlobBytes is the sum of the stored blobs' sizes, each counted once
	// however many versions share it.
	BlobBytes int64 `json:"blob_bytes"`
	// Teams is the number of teams that ever changed a plugin's state.
	Teams        int    `json:"teams"`
	AuditEntries uint64 `json:"audit_entries"`
	// FileBytes is the size of the database file as of the read.
	FileBytes int64 `json:"file_bytes"`
}
