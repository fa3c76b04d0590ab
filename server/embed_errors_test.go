package server

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/mmtoolkit/mmtoolkit/internal/app/embed"
)

// TestEmbedErrors: toError maps every error of internal/app/embed, bare
// or wrapped, to the status and code docs/embed.md's refusals give it,
// with the message the client reads; an embed.Reason the table misses
// would be a 500.
func TestEmbedErrors(t *testing.T) {
	for _, tc := range []struct {
		err     error
		status  int
		code    string
		message string
	}{
		{embed.ErrAppNotFound, http.StatusNotFound, CodeEmbedAppNotFound, "no embed app has this id: GET /api/v1/embed/apps lists them"},
		{embed.ErrAppUnknown, http.StatusUnauthorized, CodeEmbedAppUnknown, "no embed app has this id: copy the id"},
		{embed.ErrSecretWrong, http.StatusUnauthorized, CodeEmbedSecretWrong, "the app secret is wrong"},
		{embed.ErrTokenInvalid, http.StatusUnauthorized, CodeEmbedTokenInvalid, "this embed token is unknown or malformed"},
		{embed.ErrTokenExpired, http.StatusUnauthorized, CodeEmbedTokenExpired, "this embed token expired"},
		{embed.ErrTokenRevoked, http.StatusUnauthorized, CodeEmbedTokenRevoked, "this embed token was revoked"},
		{embed.ErrTooManyTokens, http.StatusTooManyRequests, CodeEmbedTooManyTokens, "this app holds the most unexpired embed tokens"},
		{embed.ErrUpstreamTokenUnavailable, http.StatusNotImplemented, CodeEmbedUpstreamTokenUnavailable, "the backend sign-in needs a session"},
		{embed.ErrUserUnknown, http.StatusNotFound, CodeEmbedUserUnknown, "no Mattermost user has this id"},
		{&embed.Refusal{Reason: embed.NameInvalid, Message: "m1"}, http.StatusBadRequest, CodeEmbedNameInvalid, "m1"},
		{&embed.Refusal{Reason: embed.OriginsInvalid, Message: "m2"}, http.StatusBadRequest, CodeEmbedOriginsInvalid, "m2"},
		{&embed.Refusal{Reason: embed.TargetsInvalid, Message: "m3"}, http.StatusBadRequest, CodeEmbedTargetsInvalid, "m3"},
		{&embed.Refusal{Reason: embed.TeamUnknown, Message: "m4"}, http.StatusBadRequest, CodeEmbedTeamUnknown, "m4"},
		{&embed.Refusal{Reason: embed.ChannelUnknown, Message: "m5"}, http.StatusBadRequest, CodeEmbedChannelUnknown, "m5"},
		{&embed.Refusal{Reason: embed.TTLInvalid, Message: "m6"}, http.StatusBadRequest, CodeEmbedTtlInvalid, "m6"},
		{&embed.Refusal{Reason: embed.UserRequired, Message: "m7"}, http.StatusBadRequest, CodeEmbedUserRequired, "m7"},
		{&embed.Refusal{Reason: embed.ChannelsRequired, Message: "m8"}, http.StatusBadRequest, CodeEmbedChannelsRequired, "m8"},
		{&embed.Refusal{Reason: embed.ChannelNotAllowed, Message: "m9"}, http.StatusForbidden, CodeEmbedChannelNotAllowed, "m9"},
		{&embed.Refusal{Reason: embed.ChannelsOneTeam, Message: "m10"}, http.StatusBadRequest, CodeEmbedChannelsOneTeam, "m10"},
	} {
		for _, err := range []error{tc.err, fmt.Errorf("issue: %w", tc.err)} {
			e := toError(err)
			if e.Status != tc.status || e.Code != tc.code || !strings.HasPrefix(e.Message, tc.message) {
				t.Errorf("toError(%v) = %d %s %q, want %d %s %q...", err, e.Status, e.Code, e.Message, tc.status, tc.code, tc.message)
			}
		}
	}
	// Every reason the package has is in the table (Reasons run from 1 up).
	for r := embed.Reason(1); r <= embed.ChannelsOneTeam; r++ {
		if _, ok := embedRefusals[r]; !ok {
			t.Errorf("embed.Reason %d has no status and code in embedRefusals", r)
		}
	}
}
