// Package serving is the serving policy as the server applies it, and the
// one invalidation of what the server caches from it.
//
// The rule itself ("which version of plugin P does team T serve?") is
// package slots': slots.Served, slots.Effective, slots.Certified,
// slots.Previewing. What this package owns is how mmtoolkit asks it: a
// Policy holds the store and the server's minimum certification, builds the
// one source every question is asked of (Source: the store seen through the
// minimum), and answers the questions the HTTP edge has (the version a
// team serves, with a developer's preview as an input; the version a pin
// selects; whether a team may enable a version at all). Before it, each of
// these lived on the server next to the routes that asked, and a caller
// that built its own source could apply another minimum than the
// manifests did.
//
// A Generation counts the changes that make served answers stale (a version
// stored or certified, a team's state, a prune, Hermes bytecode): every
// cache of served answers (web and mobile manifests, Mattermost's merged
// plugin lists, the console's catalogue) keeps the generation it was built
// at and compares, and the Generation follows the change feed
// (internal/app/changes), so one subscription invalidates them all.
//
// The package answers with sentinel and typed errors (NotServedError,
// TooLowError); the server maps them to HTTP statuses and codes. It
// imports no net/http.
package serving

import (
	"context"
	"errors"
	"fmt"
	"maps"

	"github.com/mmtoolkit/mmtoolkit/registry"
	"github.com/mmtoolkit/mmtoolkit/slots"
)

// A Policy answers the serving questions over one store and one minimum
// certification. It holds no state of its own besides them: every answer
// reads the store, so it is safe for concurrent use and never stale.
type Policy struct {
	store slots.Source
	min   registry.Certification
	src   slots.MobileSource
}

// New is the policy over store with minimum certification min
// (registry.Unverified: none). A store that keeps Hermes bytecode
// (slots.MobileSource) gives the mobile manifests their bytecode; any
// other serves them JS only.
func New(store slots.Source, min registry.Certification) *Policy {
	ms, ok := store.(slots.MobileSource)
	if !ok {
		ms = noBytecode{store}
	}
	return &Policy{store: store, min: min, src: slots.Certified(ms, min)}
}

// noBytecode adapts a store that keeps no bytecode.
type noBytecode struct{ slots.Source }

func (noBytecode) Bytecode(context.Context, string) ([]registry.Bytecode, error) { return nil, nil }

// Min is the lowest level a version may have to be enabled for a team and
// served in its manifests.
func (p *Policy) Min() registry.Certification { return p.min }

// Source is the source web and mobile manifests are built from: the store,
// seen through the minimum certification when there is one
// (slots.Certified). Every question of this package is asked of it, and
// so are slots.Build and slots.BuildMobile, so the manifests and every
// check that follows the served version apply the same minimum.
func (p *Policy) Source() slots.MobileSource { return p.src }

// Served is slots.Served over Source: the version a team whose state of
// pluginID is st serves, slots.ErrNotServed when none.
func (p *Policy) Served(ctx context.Context, pluginID string, st registry.TeamState) (*registry.Version, error) {
	return slots.Served(ctx, p.src, pluginID, st)
}

// Effective is slots.Effective over Source: the version pin ("" = follow
// the latest) selects once the plugin is enabled.
func (p *Policy) Effective(ctx context.Context, pluginID, pin string) (*registry.Version, error) {
	return slots.Effective(ctx, p.src, pluginID, pin)
}

// ServedVersion is the version of a plugin a team's manifest serves for
// its pin ("" = follow the latest) once the plugin is enabled: Effective,
// so a version below the minimum, or a prerelease a follower never gets,
// is never reported as served. "" when none is (a pin below the minimum,
// or no release at it); an error only when the store fails.
func (p *Policy) ServedVersion(ctx context.Context, pluginID, pin string) (string, error) {
	v, err := p.Effective(ctx, pluginID, pin)
	switch {
	case errors.Is(err, slots.ErrNotServed):
		return "", nil
	case err != nil:
		return "", err
	}
	return v.Version, nil
}

// NotServedError is the answer for a plugin that exists but that a team
// (or every team that matters to a request) does not serve. It wraps
// slots.ErrNotServed. The server answers it 404, as Mattermost hides
// plugins a user cannot use.
type NotServedError struct {
	PluginID string
}

func (e *NotServedError) Error() string {
	return fmt.Sprintf("plugin %s is not enabled for this team", e.PluginID)
}

func (e *NotServedError) Unwrap() error { return slots.ErrNotServed }

// IsNotServed reports whether err is (or wraps) a *NotServedError.
func IsNotServed(err error) bool {
	var e *NotServedError
	return errors.As(err, &e)
}

// TeamVersion is the one answer to "which version of plugin pluginID does
// team teamID serve?" for every permission that depends on it: events, the
// KV store's rights, crash reports, plugin routes. It is slots.Served over
// Source, so it agrees with the team's manifests by construction, the
// minimum certification included. preview is the version the caller
// previews (push --watch; "" = none): an input of the one decision
// (slots.Previewing), not a second one. A plugin the team does not serve
// is a *NotServedError; an unknown plugin is the store's
// registry.ErrPluginNotFound.
func (p *Policy) TeamVersion(ctx context.Context, teamID, pluginID, preview string) (*registry.Version, error) {
	states, err := p.store.TeamStates(ctx, teamID)
	if err != nil {
		return nil, err
	}
	st := slots.Previewing(states[pluginID], preview)
	v, err := p.Served(ctx, pluginID, st)
	if errors.Is(err, slots.ErrNotServed) {
		if _, perr := p.store.Plugin(ctx, pluginID); perr != nil {
			return nil, perr
		}
		return nil, &NotServedError{PluginID: pluginID}
	}
	return v, err
}

// ServesAny returns the first of teamIDs (in the order given) that serves
// the plugin and the version it serves (TeamVersion, with the caller's
// preview), or the TeamVersion error of the last team (a *NotServedError
// when none does, or when teamIDs is empty). An error other than "not
// served" ends the search.
func (p *Policy) ServesAny(ctx context.Context, teamIDs []string, pluginID, preview string) (string, *registry.Version, error) {
	err := error(&NotServedError{PluginID: pluginID})
	for _, tid := range teamIDs {
		var v *registry.Version
		v, err = p.TeamVersion(ctx, tid, pluginID, preview)
		if err == nil {
			return tid, v, nil
		}
		if !IsNotServed(err) {
			return "", nil, err
		}
	}
	return "", nil, err
}

// TooLowError refuses to enable a version below the minimum certification.
// Its message says what to do; the server answers it 403
// certification_too_low.
type TooLowError struct {
	// Version is the pinned version, or (FollowLatest) the plugin's
	// latest when no version meets Min.
	Version      *registry.Version
	Min          registry.Certification
	FollowLatest bool
}

func (e *TooLowError) Error() string {
	v := e.Version
	if e.FollowLatest {
		return fmt.Sprintf("this server only enables plugins certified %s or higher, and no version of %s is (its latest, %s, is %s): ask its publisher to have a version signed at %s level or higher",
			e.Min, v.PluginID, v.Version, v.Certification, e.Min)
	}
	return fmt.Sprintf("this server only enables plugins certified %s or higher, and %s %s is %s: pin a version signed at %s level or higher, or ask its publisher to have it signed",
		e.Min, v.PluginID, v.Version, v.Certification, e.Min)
}

// CheckEnable refuses (a *TooLowError) to enable plugin pl for a team at a
// version below the minimum level. pin is the pinned version, "" to follow
// the latest: then some version must meet the level (the manifests serve
// the highest that does). Without a minimum every version may be enabled.
// It reads the store itself, not Source, which hides what it refuses.
func (p *Policy) CheckEnable(ctx context.Context, pl *registry.Plugin, pin string) error {
	if p.min == registry.Unverified {
		return nil
	}
	if pin != "" {
		v, err := p.store.Version(ctx, pl.ID, pin)
		if err != nil {
			return err
		}
		if !v.Certification.Meets(p.min) {
			return &TooLowError{Version: v, Min: p.min}
		}
		return nil
	}
	if _, err := highestCertified(ctx, p.store, pl, p.min); err != nil {
		if errors.Is(err, errNoCertifiedVersion) {
			latest, lerr := p.store.Version(ctx, pl.ID, pl.Latest)
			if lerr != nil {
				return lerr
			}
			return &TooLowError{Version: latest, Min: p.min, FollowLatest: true}
		}
		return err
	}
	return nil
}

var errNoCertifiedVersion = errors.New("no version meets the minimum certification")

// highestCertified returns the highest version of pl whose level meets min.
func highestCertified(ctx context.Context, src slots.Source, pl *registry.Plugin, min registry.Certification) (*registry.Version, error) {
	for i := len(pl.Versions) - 1; i >= 0; i-- {
		v, err := src.Version(ctx, pl.ID, pl.Versions[i])
		if errors.Is(err, registry.ErrVersionNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if v.Certification.Meets(min) {
			return v, nil
		}
	}
	return nil, errNoCertifiedVersion
}

// NotFollowed says why v does not reach the teams that follow the latest
// version (slots.Effective, slots.Certified), "" when it does: a
// prerelease (every push --watch build) is its developer's preview, and a
// version below the minimum certification is served to no team. The
// server part Mattermost runs without a pin follows the same rule, so a
// version teams would not get never replaces it.
func (p *Policy) NotFollowed(v *registry.Version) string {
	if slots.IsPrerelease(v.Version) {
		return v.Version + " is a prerelease, which never goes live to everyone"
	}
	if !v.Certification.Meets(p.min) {
		return fmt.Sprintf("%s is %s, below the server's minimum certification %s", v.Version, v.Certification, p.min)
	}
	return ""
}

// PreviewSource is Source as the developer who previews pins (plugin id ->
// the prerelease they preview; push --watch) sees it: in every team that
// enabled a plugin they preview and follows its latest version, the
// team's state pins the preview (slots.Previewing); elsewhere it is the
// team's. Their own manifests are built from it, never cached where
// another user's request could find them.
func (p *Policy) PreviewSource(pins map[string]string) slots.MobileSource {
	return previewSource{p.src, pins}
}

type previewSource struct {
	slots.MobileSource
	pins map[string]string
}

func (p previewSource) TeamStates(ctx context.Context, teamID string) (map[string]registry.TeamState, error) {
	states, err := p.MobileSource.TeamStates(ctx, teamID)
	if err != nil {
		return nil, err
	}
	out := maps.Clone(states)
	for id, v := range p.pins {
		if st, ok := out[id]; ok {
			out[id] = slots.Previewing(st, v)
		}
	}
	return out, nil
}
