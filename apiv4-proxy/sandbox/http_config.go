package sandbox

import (
	apiv4proxy "github.com/mmtoolkit/mmtoolkit/apiv4-proxy"

	"net/http"
)

// serveClientConfig is GET /config/client?format=old, Mattermost's
// getClientConfig: no session needed; without one the limited config (what
// the login page reads), with one the client config, both as a flat map of
// strings. Without format=old Mattermost answers 501, with another format
// 400. Real plugins read it through their own bundled Client4
// (getClientConfigOld) and mattermost-redux's getClientConfig; the keys
// here are those Mattermost's config/client.go sets that a sandbox has a
// true answer for.
func (s *Sandbox) serveClientConfig(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Query().Get("format") {
	case "old":
	case "":
		writeMMError(w, r, http.StatusNotImplemented, "api.config.client.old_format.app_error",
			"New format for the client configuration is not supported yet. Please specify format=old in the query string.", "")
		return
	default:
		invalidURLParam(w, r, "format")
		return
	}
	limited := map[string]string{
		"Version":                  mattermostVersion,
		"BuildNumber":              "sandbox",
		"BuildDate":                "",
		"BuildHash":                "mmtoolkit",
		"BuildHashEnterprise":      "none",
		"BuildEnterpriseReady":     "false",
		"TelemetryId":              "",
		"DiagnosticsEnabled":       "false",
		"SiteURL":                  "",
		"SiteName":                 "Mattermost",
		"EnableSignInWithEmail":    "true",
		"EnableSignInWithUsername": "true",
		"EnableSignUpWithEmail":    "false",
		"EnableUserCreation":       "false",
		"EnableOpenServer":         "false",
		"NoAccounts":               "false",
	}
	if _, err := s.Authenticate(r.Context(), apiv4proxy.TokenFromRequest(r)); err != nil {
		writeJSON(w, http.StatusOK, limited)
		return
	}
	full := limited
	for k, v := range map[string]string{
		"PluginsEnabled":                           "true",
		"EnableMarketplace":                        "false",
		"EnableFile":                               "false",
		"EnableCustomEmoji":                        "false",
		"EnableLinkPreviews":                       "false",
		"ExperimentalEnableAuthenticationTransfer": "false",
		"TeammateNameDisplay":                      "username",
		"DefaultClientLocale":                      "en",
		"AvailableLocales":                         "",
		"EnableCommands":                           "true",
		"EnablePostUsernameOverride":               "false",
		"EnablePostIconOverride":                   "false",
		"EnableConfirmNotificationsToChannel":      "true",
		"MaxPostSize":                              "16383",
		"MaxFileSize":                              "104857600",
		"ExperimentalSharedChannels":               "false",
		"FeatureFlagAppsEnabled":                   "false",
	} {
		full[k] = v
	}
	writeJSON(w, http.StatusOK, full)
}
