package server

// The stable codes of {"error":{"code","message"}}, one constant per code,
// so a code is spelled once and TestErrorCodesAreDocumented can check that
// docs/api.md (or docs/embed.md, for the embed routes) documents each.
const (
	// CodeBadBytecode is answered 400 on: mobile manifest `bytecode` not a
	// number
	CodeBadBytecode = "bad_bytecode"
	// CodeBadEventName is answered 400 on: event name not `[a-z0-9_]{1,64}`,
	// or not exactly one of `channel_id`/`team_id`
	CodeBadEventName = "bad_event_name"
	// CodeBadEventTarget is answered 400 on: event name not `[a-z0-9_]{1,64}`,
	// or not exactly one of `channel_id`/`team_id`
	CodeBadEventTarget = "bad_event_target"
	// CodeBadMultipart is answered 400 on: multipart form unreadable, over 16
	// fields, or without `plugin`
	CodeBadMultipart = "bad_multipart"
	// CodeBadPath is answered 400 on: a proxied path with `.` or `..` segments
	// (escaped ones included), or one not validly escaped
	CodeBadPath = "bad_path"
	// CodeBadPreviewTtl is answered 400 on: `ttl_seconds` outside 1 to 600
	CodeBadPreviewTtl = "bad_preview_ttl"
	// CodeBadRequest is answered 400 on: PUT body not `{"enabled": bool,
	// "version"?: string}`
	CodeBadRequest = "bad_request"
	// CodeBadRequestBody is answered 400 on: the push body broke off before
	// its end (a cut multipart form, a client that left)
	CodeBadRequestBody = "bad_request_body"
	// CodeBadRuntime is answered 400 on: mobile manifest `runtime` missing or
	// not semver
	CodeBadRuntime = "bad_runtime"
	// CodeBadWebsocketHandshake is answered 400 on: a plain request to a
	// websocket route (the embed relay; the proxied Mattermost websocket)
	CodeBadWebsocketHandshake = "bad_websocket_handshake"
	// CodeBodyTimeout is answered 408 on: the push body stalled for 30 s, or
	// took over 5 minutes in all
	CodeBodyTimeout = "body_timeout"
	// CodeBodyTooLarge is answered 413 on: a request through the proxy over
	// its body limit (100 MiB by default), a crash report over 32 KiB, or a
	// team toggle body over 4 KiB
	CodeBodyTooLarge = "body_too_large"
	// CodeBundleNotFound is answered 404 on: unknown bundle hash or wrong
	// extension
	CodeBundleNotFound = "bundle_not_found"
	// CodeCertificationTooLow is answered 403 on: enabling (or pinning) a
	// version below the server's `--min-certification`; `required`,
	// `certification` and `version` say which
	CodeCertificationTooLow = "certification_too_low"
	// CodeChannelNotFound is answered 404 on: unknown channel, or not a member
	CodeChannelNotFound = "channel_not_found"
	// CodeCompileError is answered 422 on: the entry does not compile;
	// `diagnostics: [{file, line, column, text}]` (line 1-based, column
	// 0-based)
	CodeCompileError = "compile_error"
	// CodeCsrfHeaderMissing is answered 403 on: a state-changing request
	// (POST, PUT, PATCH, DELETE) authenticated only by the `MMAUTHTOKEN`
	// cookie, without `X-Requested-With: XMLHttpRequest`: what a cross-site
	// form would send. The sandbox Mattermost answers such requests as
	// Mattermost does (401 `api.context.session_expired.app_error`)
	CodeCsrfHeaderMissing = "csrf_header_missing"
	// CodeEmbedAdminRequired is answered 403 on: managing apps (or revoking
	// with a session) without being a system admin
	CodeEmbedAdminRequired = "embed_admin_required"
	// CodeEmbedAppAuthRequired is answered 401 on: no Basic auth on the
	// exchange or a backend revocation
	CodeEmbedAppAuthRequired = "embed_app_auth_required"
	// CodeEmbedAppNotFound is answered 404 on: managing, or opening the embed
	// page of, an app id no app has
	CodeEmbedAppNotFound = "embed_app_not_found"
	// CodeEmbedAppUnknown is answered 401 on: no app has that id
	CodeEmbedAppUnknown = "embed_app_unknown"
	// CodeEmbedChannelNotAllowed is answered 403 on: a channel the app does
	// not show, the user cannot read, or the token is not for: another
	// channel's posts, posting there, a thread or reply whose root is
	// elsewhere
	CodeEmbedChannelNotAllowed = "embed_channel_not_allowed"
	// CodeEmbedChannelUnknown is answered 400 on: an app naming a team or
	// channel that does not exist or that the admin cannot see
	CodeEmbedChannelUnknown = "embed_channel_unknown"
	// CodeEmbedChannelsOneTeam is answered 400 on: a teams-only app needs
	// `channels`; a token is for one team
	CodeEmbedChannelsOneTeam = "embed_channels_one_team"
	// CodeEmbedChannelsRequired is answered 400 on: a teams-only app needs
	// `channels`; a token is for one team
	CodeEmbedChannelsRequired = "embed_channels_required"
	// CodeEmbedNameInvalid is answered 400 on: creating or updating an app
	// without a name of 1 to 80 characters, 1 to 20 valid origins, or 1 to 200
	// teams and channels in all
	CodeEmbedNameInvalid = "embed_name_invalid"
	// CodeEmbedOriginsInvalid is answered 400 on: creating or updating an app
	// without a name of 1 to 80 characters, 1 to 20 valid origins, or 1 to 200
	// teams and channels in all
	CodeEmbedOriginsInvalid = "embed_origins_invalid"
	// CodeEmbedScope is answered 403 on: a route outside the list above, or
	// another team's manifest
	CodeEmbedScope = "embed_scope"
	// CodeEmbedSecretInBrowser is answered 403 on: the token exchange carries
	// an `Origin` header
	CodeEmbedSecretInBrowser = "embed_secret_in_browser"
	// CodeEmbedSecretWrong is answered 401 on: the secret is not the app's (or
	// was rotated)
	CodeEmbedSecretWrong = "embed_secret_wrong"
	// CodeEmbedSessionEnded is answered 401 on: the session behind the token
	// ended (the user logged out of Mattermost; an admin revoked it)
	CodeEmbedSessionEnded = "embed_session_ended"
	// CodeEmbedTargetsInvalid is answered 400 on: creating or updating an app
	// without a name of 1 to 80 characters, 1 to 20 valid origins, or 1 to 200
	// teams and channels in all
	CodeEmbedTargetsInvalid = "embed_targets_invalid"
	// CodeEmbedTeamUnknown is answered 400 on: an app naming a team or channel
	// that does not exist or that the admin cannot see
	CodeEmbedTeamUnknown = "embed_team_unknown"
	// CodeEmbedTokenExpired is answered 401 on: past its expiry
	CodeEmbedTokenExpired = "embed_token_expired"
	// CodeEmbedTokenInvalid is answered 401 on: no token, or an unknown or
	// malformed one
	CodeEmbedTokenInvalid = "embed_token_invalid"
	// CodeEmbedTokenRequired is answered 401 on: no token, or an unknown or
	// malformed one
	CodeEmbedTokenRequired = "embed_token_required"
	// CodeEmbedTokenRevoked is answered 401 on: revoked by the app, an admin,
	// "revoke all" or a sign-out
	CodeEmbedTokenRevoked = "embed_token_revoked"
	// CodeEmbedTooManyTokens is answered 429 on: the app holds 10,000
	// unexpired tokens
	CodeEmbedTooManyTokens = "embed_too_many_tokens"
	// CodeEmbedTtlInvalid is answered 400 on: `ttl_seconds` outside 10 to 3600
	CodeEmbedTtlInvalid = "embed_ttl_invalid"
	// CodeEmbedUnavailable is answered 501 on: any embed route on a store that
	// keeps no embed apps
	CodeEmbedUnavailable = "embed_unavailable"
	// CodeEmbedUpstreamTokenUnavailable is answered 501 on: the backend
	// exchange in front of a Mattermost without `--upstream-admin-token` (or
	// with user access tokens off)
	CodeEmbedUpstreamTokenUnavailable = "embed_upstream_token_unavailable"
	// CodeEmbedUserRequired is answered 400, 404 on: the exchange names no
	// user, or no such user
	CodeEmbedUserRequired = "embed_user_required"
	// CodeEmbedUserUnknown is answered 400, 404 on: the exchange names no
	// user, or no such user
	CodeEmbedUserUnknown = "embed_user_unknown"
	// CodeEnabledRequired is answered 400 on: PUT body not `{"enabled": bool,
	// "version"?: string}`
	CodeEnabledRequired = "enabled_required"
	// CodeEventTooLarge is answered 413 on: event body over 64 KiB (or, on
	// PostgreSQL, the event and its recipients over 4 MiB)
	CodeEventTooLarge = "event_too_large"
	// CodeFileNotFound is answered 404 on: `GET /static/plugins/<id>/<path>`:
	// no version of the plugin has that file of its prebuilt webapp output
	// folder
	// ([plugin-package.md](plugin-package.md#pushing-a-plugin-repository-source-folder))
	CodeFileNotFound = "file_not_found"
	// CodeInternalError is answered 500, 503 on: a server fault, logged;
	// `store_unavailable` (with `Retry-After: 5`): the PostgreSQL registry
	// cannot be reached, while cached manifests and bundles are still served
	CodeInternalError = "internal_error"
	// CodeInvalidToken is answered 401 on: unknown or expired token
	CodeInvalidToken = "invalid_token"
	// CodeKvConflict is answered 412 on: `If-Match` revision is stale, or
	// `If-None-Match: *` and the key exists
	CodeKvConflict = "kv_conflict"
	// CodeKvKeyInvalid is answered 400 on: the fix: fix the request
	CodeKvKeyInvalid = "kv_key_invalid"
	// CodeKvNotFound is answered 404 on: no value under the key
	CodeKvNotFound = "kv_not_found"
	// CodeKvPreconditionInvalid is answered 400 on: the fix: fix the request
	CodeKvPreconditionInvalid = "kv_precondition_invalid"
	// CodeKvQuotaExceeded is answered 409 on: the write would take your KV
	// entries, over every plugin and scope, past 5,000 keys or 32 MiB
	CodeKvQuotaExceeded = "kv_quota_exceeded"
	// CodeKvScopeInvalid is answered 400 on: the fix: fix the request
	CodeKvScopeInvalid = "kv_scope_invalid"
	// CodeKvTooManyKeys is answered 409 on: 1,000 keys in the scope already
	CodeKvTooManyKeys = "kv_too_many_keys"
	// CodeKvValueNotJson is answered 400 on: the fix: fix the request
	CodeKvValueNotJson = "kv_value_not_json"
	// CodeKvValueTooLarge is answered 413 on: value over 64 KiB
	CodeKvValueTooLarge = "kv_value_too_large"
	// CodeMethodNotAllowed is answered 404, 405 on: the fix: see this page
	CodeMethodNotAllowed = "method_not_allowed"
	// CodeNoPreviousVersion is answered 409 on: a rollback for a team that
	// served no other version of the plugin (`current` names the one it
	// serves)
	CodeNoPreviousVersion = "no_previous_version"
	// CodeNotAdmin is answered 403 on: reading plugin health (`/errors`,
	// `/api/v1/crashes`) or the audit log without being a system or team admin
	CodeNotAdmin = "not_admin"
	// CodeNotOwner is answered 403 on: pushing an id someone else owns
	CodeNotOwner = "not_owner"
	// CodeNotPreviewOwner is answered 403 on: a preview session of a
	// prerelease someone else pushed
	CodeNotPreviewOwner = "not_preview_owner"
	// CodeNotSystemAdmin is answered 403 on: the kill switch
	// (`disable-everywhere`), or reading or changing a server part, without
	// being a system admin
	CodeNotSystemAdmin = "not_system_admin"
	// CodeNotTeamAdmin is answered 403 on: changing a team's plugins without
	// being its admin
	CodeNotTeamAdmin = "not_team_admin"
	// CodeNotTeamMember is answered 403 on: reading or using (manifest, plugin
	// routes, events, KV, crash report) a team you are not in and not being a
	// system admin: a system admin may use every team, as in Mattermost
	CodeNotTeamMember = "not_team_member"
	// CodeOriginNotAllowed is answered 403 on: a websocket through the proxy
	// from a page on another origin
	CodeOriginNotAllowed = "origin_not_allowed"
	// CodePluginFieldMissing is answered 400 on: multipart form unreadable,
	// over 16 fields, or without `plugin`
	CodePluginFieldMissing = "plugin_field_missing"
	// CodePluginNotEnabled is answered 404 on: an event, KV access or crash
	// report for a plugin the team does not serve (not enabled, or no version
	// at the minimum certification); for a direct message, no team the sender
	// and every recipient share serves it
	CodePluginNotEnabled = "plugin_not_enabled"
	// CodePluginNotFound is answered 404 on: unknown plugin id
	CodePluginNotFound = "plugin_not_found"
	// CodePreviewNotPrerelease is answered 400 on: a preview session of a
	// release (`1.2.0`), which teams that follow the latest already serve
	CodePreviewNotPrerelease = "preview_not_prerelease"
	// CodeProxyPathInvalid is answered 400 on: not a clean `/api/v4/` path
	CodeProxyPathInvalid = "proxy_path_invalid"
	// CodeProxyRouteNotDeclared is answered 403 on: the plugin's `proxy` list
	// lacks the method and path (the message names them)
	CodeProxyRouteNotDeclared = "proxy_route_not_declared"
	// CodePushBudgetExhausted is answered 503 (`Retry-After: 5`) on: the
	// pushes being read already hold the server's memory budget for pushes in
	// flight (`mmtoolkit serve --push-budget-mib`, 512 MiB; `limit`)
	CodePushBudgetExhausted = "push_budget_exhausted"
	// CodeRateLimited is answered 429 on: over 50 events/s
	CodeRateLimited = "rate_limited"
	// CodeRouteNotFound is answered 404, 405 on: the fix: see this page
	CodeRouteNotFound = "route_not_found"
	// CodeServerClosing is answered 503 on: a preview watch (`mmtoolkit
	// push --watch`) open while the server shuts down
	CodeServerClosing = "server_closing"
	// CodeServerPartNotFound is answered 404, 400 on: no version of the plugin
	// has a server part, or pinning a version without one
	CodeServerPartNotFound = "server_part_not_found"
	// CodeSignatureConflict is answered 400 on: two different signatures came
	// with one push (inside and detached, or two detached)
	CodeSignatureConflict = "signature_conflict"
	// CodeSignatureUntrustedKey is answered 403 on: a valid signature by a key
	// the server trusts for no level (`key` names its fingerprint). Nothing is
	// stored
	CodeSignatureUntrustedKey = "signature_untrusted_key"
	// CodeSourceMapPending is answered 503 (`Retry-After: 2`) on: a source map
	// still being built after its push, 30 s after the request (a request
	// waits that long first)
	CodeSourceMapPending = "source_map_pending"
	// CodeStorageQuotaExceeded is answered 507 on: this version would take
	// what the versions of the plugin owner's plugins store past the owner's
	// quota (`--owner-quota-mib`, 2 GiB); `limit`, `used` and `size` in bytes
	CodeStorageQuotaExceeded = "storage_quota_exceeded"
	// CodeStoreUnavailable is answered 500, 503 on: a server fault, logged;
	// `store_unavailable` (with `Retry-After: 5`): the PostgreSQL registry
	// cannot be reached, while cached manifests and bundles are still served
	CodeStoreUnavailable = "store_unavailable"
	// CodeTeamNotFound is answered 404 on: unknown team id or name
	CodeTeamNotFound = "team_not_found"
	// CodeTeamRequired is answered 400 on: manifest query incomplete
	CodeTeamRequired = "team_required"
	// CodeUnauthenticated is answered 401 on: no token
	CodeUnauthenticated = "unauthenticated"
	// CodeUnknownPlatform is answered 400 on: manifest query incomplete
	CodeUnknownPlatform = "unknown_platform"
	// CodeUnsupportedMediaType is answered 415 on: push body neither gzip nor
	// multipart
	CodeUnsupportedMediaType = "unsupported_media_type"
	// CodeUpstreamAdminRequired is answered 403 on: a push (or change) of a
	// server part without a Mattermost system admin's token: the pusher is not
	// one and the operator set no `--upstream-admin-token`, or Mattermost
	// refused the token. Nothing is stored
	CodeUpstreamAdminRequired = "upstream_admin_required"
	// CodeUpstreamBadResponse is answered 502 on: the Mattermost server (or
	// something before it) answered a status under 100
	CodeUpstreamBadResponse = "upstream_bad_response"
	// CodeUpstreamPluginDisableFailed is answered 502 on: the kill switch
	// disabled the plugin in every team, but Mattermost did not disable its
	// server part
	CodeUpstreamPluginDisableFailed = "upstream_plugin_disable_failed"
	// CodeUpstreamPluginForeign is answered 409 on: Mattermost has the plugin
	// id at a version mmtoolkit did not install, which it could not put back
	// on a failure
	CodeUpstreamPluginForeign = "upstream_plugin_foreign"
	// CodeUpstreamPluginInstallFailed is answered 502 on: Mattermost refused
	// the server part, did not enable it, or it failed to start; Mattermost
	// was put back as it was (the message says so, or that putting back
	// failed) and nothing is stored
	CodeUpstreamPluginInstallFailed = "upstream_plugin_install_failed"
	// CodeUpstreamTimeout is answered 502, 504 on: the Mattermost server is
	// down, failing or slow
	CodeUpstreamTimeout = "upstream_timeout"
	// CodeUpstreamUnavailable is answered 502, 504 on: the Mattermost server
	// is down, failing or slow
	CodeUpstreamUnavailable = "upstream_unavailable"
	// CodeUpstreamUploadsDisabled is answered 409 on: Mattermost refuses
	// plugin uploads (`PluginSettings.EnableUploads` false, plugins off, or
	// `RequirePluginSignature` on). Nothing is stored
	CodeUpstreamUploadsDisabled = "upstream_uploads_disabled"
	// CodeVersionConflict is answered 409 on: same id+version, other content
	CodeVersionConflict = "version_conflict"
	// CodeVersionNotFound is answered 404 on: pinning a version that does not
	// exist
	CodeVersionNotFound = "version_not_found"
)
