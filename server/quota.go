package server

import (
	"errors"
	"net/http"

	"github.com/mmtoolkit/mmtoolkit/internal/app/publish"
)

// DefaultOwnerQuota is Config.OwnerQuotaBytes' default: what the versions
// of one developer's plugins may store together (publish.Quota).
const DefaultOwnerQuota = publish.DefaultOwnerQuota

// publishError maps the publish pipeline's own errors (quota,
// certification) to their statuses and codes; ok false for others.
func publishError(err error) (e *Error, ok bool) {
	var (
		qe *publish.QuotaError
		ue *publish.UntrustedKeyError
	)
	switch {
	case errors.As(err, &qe):
		return &Error{Status: http.StatusInsufficientStorage, Code: CodeStorageQuotaExceeded, Message: qe.Error(),
			Details: map[string]any{"limit": qe.Limit, "used": qe.Used, "size": qe.Size}}, true
	case errors.As(err, &ue):
		return &Error{Status: http.StatusForbidden, Code: CodeSignatureUntrustedKey, Message: ue.Error(),
			Details: map[string]any{"key": ue.Key}}, true
	case errors.Is(err, publish.ErrSignatureConflict):
		return &Error{Status: http.StatusBadRequest, Code: CodeSignatureConflict, Message: err.Error()}, true
	}
	return nil, false
}
