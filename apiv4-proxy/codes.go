package apiv4proxy

// The stable codes of the proxy's {"error":{"code","message"}} answers,
// spelled once; docs/api.md's error table lists each (the server's
// TestErrorCodesAreDocumented checks it).
const (
	// CodeBadPath is answered 400 to a proxied path with "." or ".."
	// segments (escaped ones included), one not validly escaped, or a
	// request line that cannot be forwarded.
	CodeBadPath = "bad_path"
	// CodeBadRequestBody is answered 400 when the request body could not be
	// read to its end.
	CodeBadRequestBody = "bad_request_body"
	// CodeBodyTooLarge is answered 413 to a request body over the proxy's
	// limit.
	CodeBodyTooLarge = "body_too_large"
	// CodeBadWebsocketHandshake is answered to an invalid websocket upgrade
	// (with the status the handshake check chose).
	CodeBadWebsocketHandshake = "bad_websocket_handshake"
	// CodeOriginNotAllowed is answered 403 to a websocket upgrade from a
	// page on another origin.
	CodeOriginNotAllowed = "origin_not_allowed"
	// CodeUpstreamBadResponse is answered 502 when Mattermost (or something
	// before it) answered a status under 100 or an unreadable response.
	CodeUpstreamBadResponse = "upstream_bad_response"
	// CodeUpstreamUnavailable is answered 502 when Mattermost cannot be
	// reached or failed.
	CodeUpstreamUnavailable = "upstream_unavailable"
	// CodeUpstreamTimeout is answered 504 when Mattermost did not answer in
	// time.
	CodeUpstreamTimeout = "upstream_timeout"
)
