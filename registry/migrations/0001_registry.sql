-- The registry: plugins, their immutable versions, content-addressed blobs,
-- per-team state, the audit log, what is derived from blobs (precompressed
-- variants, Hermes bytecode), shared settings, and the change log replicas
-- follow. Records are the JSON Bolt stores, in json columns (json keeps the
-- bytes as written; jsonb would reorder a version's raw manifest), next to
-- the columns queries select on. Applied by registry.OpenPostgres in one
-- transaction; forward only: a later change is a new file.

-- plugin id -> Plugin JSON (owner, created_at, versions in semver order,
-- latest), kept in step with versions by every write, under this row's lock.
CREATE TABLE plugins (
	id     text PRIMARY KEY,
	record json NOT NULL
);

-- Immutable versions: a row is written once by a push; only its
-- certification (an identical re-push signed by a more trusted key) and its
-- source maps (built after the push) are added later.
CREATE TABLE versions (
	plugin_id text NOT NULL REFERENCES plugins (id),
	version   text NOT NULL,
	pushed_by text NOT NULL,
	record    json NOT NULL,
	PRIMARY KEY (plugin_id, version)
);

-- Content-addressed: the key is the SHA-256 (lowercase hex) of data,
-- written once however many versions share it (INSERT ... ON CONFLICT DO
-- NOTHING). STORAGE EXTERNAL: out of line without pglz, which would spend a
-- push's time compressing bundles whose gzip and brotli variants are stored
-- next to them anyway.
CREATE TABLE blobs (
	sha256 text PRIMARY KEY,
	size   bigint NOT NULL,
	data   bytea NOT NULL,
	CHECK (size = octet_length(data))
);
ALTER TABLE blobs ALTER COLUMN data SET STORAGE EXTERNAL;

-- A team's state of a plugin (TeamState JSON). No row: disabled, following
-- the latest.
CREATE TABLE team_states (
	team_id   text NOT NULL,
	plugin_id text NOT NULL REFERENCES plugins (id),
	record    json NOT NULL,
	PRIMARY KEY (team_id, plugin_id)
);
CREATE INDEX team_states_plugin ON team_states (plugin_id);

-- The append-only audit log (AuditEntry JSON, seq included). Filters read
-- one index backwards.
CREATE TABLE audit (
	seq       bigserial PRIMARY KEY,
	actor     text NOT NULL,
	action    text NOT NULL,
	plugin_id text NOT NULL DEFAULT '',
	team_id   text NOT NULL DEFAULT '',
	record    json NOT NULL
);
CREATE INDEX audit_actor ON audit (actor, seq);
CREATE INDEX audit_plugin ON audit (plugin_id, seq);
CREATE INDEX audit_team ON audit (team_id, seq);

-- blob sha256 -> {coding: Encoded} JSON: precompressed variants, a cache of
-- their blob (their bytes are blobs too).
CREATE TABLE encodings (
	sha256 text PRIMARY KEY REFERENCES blobs (sha256),
	record json NOT NULL
);

-- Hermes bytecode of a mobile JS blob, one record per bytecode version
-- (Bytecode JSON).
CREATE TABLE bytecode (
	source           text NOT NULL REFERENCES blobs (sha256),
	bytecode_version bigint NOT NULL,
	record           json NOT NULL,
	PRIMARY KEY (source, bytecode_version)
);

-- Shared configuration every replica reads (the mobile signing key, the
-- package trust settings): one value per name.
CREATE TABLE settings (
	name       text PRIMARY KEY,
	value      bytea NOT NULL,
	updated_by text NOT NULL DEFAULT '',
	updated_at timestamptz NOT NULL
);

-- The change log: every logical write appends a row in its own transaction
-- and NOTIFYs mmtoolkit_changes with the id. Ids commit in order (writers
-- take an advisory lock before appending). Rows older than a day are
-- deleted by every replica's sweep.
CREATE TABLE changes (
	id      bigserial PRIMARY KEY,
	at      timestamptz NOT NULL,
	kind    text NOT NULL,
	payload jsonb NOT NULL
);
CREATE INDEX changes_at ON changes (at);
