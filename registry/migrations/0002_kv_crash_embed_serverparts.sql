-- The rest of what Bolt stores: the plugins' key-value store with its
-- per-user quota, the crash health of versions, embed apps and their
-- tokens, and the plugin-wide state of server parts. Records are the JSON
-- Bolt stores (json columns keep the bytes as written), next to the columns
-- queries select on. Applied by registry.OpenPostgres in one transaction
-- after 0001; forward only.

-- A scope of a plugin's KV store. rev is the last revision a write in the
-- scope was given (bbolt's bucket sequence: it grows with every put and
-- never goes back, deletes included); keys is how many keys the scope
-- holds, for the key bound. Every write of the scope locks this row first,
-- so compare-and-set, the bound and revisions are decided one writer at a
-- time per scope, as bbolt's one writer decides them. The row outlives its
-- keys, so a deleted key's revision is never given again.
CREATE TABLE kv_scopes (
	plugin_id text NOT NULL,
	scope     text NOT NULL,
	rev       bigint NOT NULL CHECK (rev >= 0),
	keys      bigint NOT NULL CHECK (keys >= 0),
	PRIMARY KEY (plugin_id, scope)
);

-- KV entries. Keys are bytea so that listing orders them byte by byte and
-- a prefix is an index range, as in bbolt; the plugin need not exist (the
-- server checks), as in bbolt.
CREATE TABLE kv (
	plugin_id  text NOT NULL,
	scope      text NOT NULL,
	key        bytea NOT NULL,
	value      bytea NOT NULL,
	rev        bigint NOT NULL,
	updated_by text NOT NULL,
	updated_at timestamptz NOT NULL,
	PRIMARY KEY (plugin_id, scope, key),
	FOREIGN KEY (plugin_id, scope) REFERENCES kv_scopes (plugin_id, scope)
);

-- Per user, the keys and bytes (key and value) of the KV entries that user
-- wrote last, over every plugin and scope: the quota. No row: nothing.
CREATE TABLE kv_usage (
	user_id text PRIMARY KEY,
	keys    bigint NOT NULL CHECK (keys >= 0),
	bytes   bigint NOT NULL CHECK (bytes >= 0)
);

-- What clients reported about a version (healthRecord JSON: the Health and
-- the distinct users). It goes with its version (a prune).
CREATE TABLE crash_health (
	plugin_id text NOT NULL,
	version   text NOT NULL,
	record    json NOT NULL,
	PRIMARY KEY (plugin_id, version),
	FOREIGN KEY (plugin_id, version) REFERENCES versions (plugin_id, version) ON DELETE CASCADE
);

-- Embed apps (EmbedApp JSON). COLLATE "C": ids compare byte by byte, as
-- bbolt's keys do.
CREATE TABLE embed_apps (
	id     text COLLATE "C" PRIMARY KEY,
	record json NOT NULL
);

-- Embed tokens (EmbedToken JSON; the id is a hash of the token, which is
-- never stored). expires_ms is ExpiresAt in Unix milliseconds (bbolt's
-- key order: an app's tokens by expiry, then id), session_ref the
-- record's SessionRef, so that the sweep of sessions to end reads an index
-- of the few tokens that have one.
CREATE TABLE embed_tokens (
	id          text COLLATE "C" PRIMARY KEY,
	app_id      text COLLATE "C" NOT NULL REFERENCES embed_apps (id),
	expires_ms  bigint NOT NULL,
	session_ref text NOT NULL DEFAULT '',
	record      json NOT NULL
);
CREATE INDEX embed_tokens_app ON embed_tokens (app_id, expires_ms, id);
CREATE INDEX embed_tokens_session ON embed_tokens (expires_ms) WHERE session_ref <> '';

-- The plugin-wide state of a plugin's server part (ServerPart JSON). No
-- row: follow the latest, enabled.
CREATE TABLE server_parts (
	plugin_id text PRIMARY KEY REFERENCES plugins (id),
	record    json NOT NULL
);
