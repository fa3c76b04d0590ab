package sandbox

import (
	apiv4proxy "github.com/mmtoolkit/mmtoolkit/apiv4-proxy"

	"net/http"
)

// requireSession is Mattermost's ApiSessionRequired: a valid token in the
// Authorization header, the MMAUTHTOKEN cookie or access_token, else 401
// with Mattermost's session_expired error. As Mattermost, a state-changing
// request authenticated by the cookie alone needs X-Requested-With:
// XMLHttpRequest (Client4 sends it).
func (s *Sandbox) requireSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token := apiv4proxy.TokenFromRequest(r)
		detail := "UserRequired"
		if token != "" {
			detail = "token=" + token
		}
		if apiv4proxy.CrossSiteForged(r) {
			// Mattermost's checkCSRFToken answers exactly this.
			writeMMError(w, r, http.StatusUnauthorized, "api.context.session_expired.app_error",
				"Invalid or expired session, please login again.", detail+" Appears to be a CSRF attempt")
			return
		}
		id, err := s.Authenticate(r.Context(), token)
		if err != nil {
			writeMMError(w, r, http.StatusUnauthorized, "api.context.session_expired.app_error",
				"Invalid or expired session, please login again.", detail)
			return
		}
		next.ServeHTTP(w, r.WithContext(withSession(r.Context(), id, token)))
	})
}
