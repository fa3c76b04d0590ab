package serverpart

import "fmt"

// Kind is which refusal or failure an *Error is. The server answers each
// with one status and one stable code (server/errors.go, toError); the
// comment of each names the code.
type Kind int

const (
	// AdminRequired (upstream_admin_required): no token that may change
	// plugins on Mattermost, or Mattermost refused the one given.
	AdminRequired Kind = iota + 1
	// PluginForeign (upstream_plugin_foreign): Mattermost has the plugin at
	// a version mmtoolkit does not keep, so it could not be put back.
	PluginForeign
	// UploadsDisabled (upstream_uploads_disabled): Mattermost refuses
	// plugin uploads.
	UploadsDisabled
	// Timeout (upstream_timeout): Mattermost did not answer in time.
	Timeout
	// InstallFailed (upstream_plugin_install_failed): Mattermost refused
	// the archive, or the server part did not start.
	InstallFailed
	// Unavailable (upstream_unavailable): Mattermost could not be reached.
	Unavailable
	// DisableFailed (upstream_plugin_disable_failed): the kill switch could
	// not disable the server part on Mattermost.
	DisableFailed
	// NotFound (server_part_not_found, 404): no version of the plugin has
	// a server part.
	NotFound
	// NoSuchVersion (server_part_not_found, 400): a pin names a version
	// without a server part. The last kind: a new one goes after it, and
	// the server's test of its mapping walks them up to the last.
	NoSuchVersion
)

// Error is a server part change refused or failed; Message says what
// happened, in what state things are, and what to do next.
type Error struct {
	Kind    Kind
	Message string
}

func (e *Error) Error() string { return e.Message }

func errorf(k Kind, format string, args ...any) *Error {
	return &Error{Kind: k, Message: fmt.Sprintf(format, args...)}
}

// NoServerPart is the NotFound error of plugin id.
func NoServerPart(id string) *Error {
	return errorf(NotFound, "no version of %s has a server part: push a Mattermost archive with server/dist to give it one", id)
}
