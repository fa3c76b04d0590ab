package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/mmtoolkit/mmtoolkit/registry"
)

// A change is one write to the registry as the server applies it: the
// caches it invalidates (manifest generation, artifact index, merged plugin
// lists, the console's catalogue) and the websocket events it publishes.
// Every change goes through apply, whether this server made it (right
// after the store call returned) or another replica of the same database
// did (read from the change log: replica.go). Keeping one path is what
// makes a replica answer the same as the one that took the write: a cache
// a local change invalidates, a remote one invalidates too.
type change struct {
	kind string // a registry.Change* kind

	// ChangeVersion: the version stored; certified when only its
	// certification was raised (an identical re-push with a signature).
	version   *registry.Version
	certified bool
	// asOf is the change row of a version stored on another replica (0:
	// stored here): team states changed after it are told by their own
	// rows, so versionPushed judges those teams by their state then.
	asOf int64

	// ChangeTeamState: a team's state of plugin, before and after.
	teamID        string
	plugin        *registry.Plugin
	before, after registry.TeamState

	// ChangePrune: blobs no version names any more.
	collected []string

	// ChangeEncodings: a blob's precompressed variants.
	sha       string
	encodings map[string]registry.Encoded

	// ChangeSourceMap: a source map built after its push.
	artifact registry.Artifact

	// ChangeBytecode: Hermes bytecode of a mobile bundle.
	bytecode registry.Bytecode

	// changePreview: a developer's preview lease taken, renewed or ended
	// on another replica.
	preview *previewShare

	// ChangePluginEvent: a plugin's custom event.
	event *customEvent
	count chan<- int // receives how many of this server's clients got it
}

// apply invalidates what c makes stale and tells this server's websocket
// clients. It reads the store only to build events for clients that get
// them (a team's manifest entry), never for the caches themselves.
func (s *Server) apply(ctx context.Context, c change) {
	switch c.kind {
	case registry.ChangeVersion:
		if c.certified {
			s.changed() // a minimum level may now let it into manifests
			return
		}
		s.addArtifacts(c.version)
		s.changed()
		s.versionPushed(ctx, c.version, c.asOf)
	case registry.ChangeTeamState:
		s.teamStateChanged()
		s.teamChanged(ctx, c.teamID, c.before, c.after, c.plugin)
	case registry.ChangePrune:
		s.forgetBlobs(c.collected)
		s.changed()
		s.quota.mu.Lock()
		clear(s.quota.usage) // counted again from the store at the next push
		s.quota.mu.Unlock()
	case registry.ChangeEncodings:
		s.addEncodings(c.sha, c.encodings)
	case registry.ChangeSourceMap:
		s.addArtifact(c.artifact)
	case registry.ChangeBytecode:
		if c.bytecode.Error == "" {
			s.addArtifacts(&registry.Version{Artifacts: map[string]registry.Artifact{registry.MobileHermes: c.bytecode.Artifact}})
			s.changed()
		}
	case changeServerPart:
		s.forgetUpstreamPlugins()
	case changePreview:
		p := c.preview
		if p.Ended {
			if l := s.previews.end(p.User, p.Plugin); l != nil {
				s.previewChanged(ctx, l.user, l.plugin, s.previewTeams(ctx, l.teams, l.plugin))
			}
			return
		}
		prev, err := s.previews.set(p.User, p.Plugin, p.Version, p.Teams, time.Duration(p.TTLMS)*time.Millisecond, s.previewExpired)
		if err == nil && prev != p.Version {
			s.previewChanged(ctx, p.User, p.Plugin, s.previewTeams(ctx, p.Teams, p.Plugin))
		}
	case registry.ChangePluginEvent:
		s.hub.publish(c.event.outbound(), wsEvent{Event: c.event.Event, Data: c.event.Data, Broadcast: c.event.Broadcast}, c.count)
	}
}

// customEvent is a plugin's custom event as the change log carries it to
// every replica: the event and who gets it (outbound's fields).
type customEvent struct {
	Event     string          `json:"event"`
	Data      json.RawMessage `json:"data"`
	Broadcast wsBroadcast     `json:"broadcast"`
	TeamID    string          `json:"team_id,omitempty"`
	// Users restricts the event to these users when Restricted (an empty
	// list then reaches nobody, as an empty outbound.UserIDs does).
	Users      []string `json:"user_ids,omitempty"`
	Restricted bool     `json:"restricted,omitempty"`
	OmitConn   string   `json:"omit_connection_id,omitempty"`
}

func newCustomEvent(to outbound, name string, data json.RawMessage, bc wsBroadcast) *customEvent {
	e := &customEvent{Event: name, Data: data, Broadcast: bc, TeamID: to.TeamID, OmitConn: to.OmitConn}
	if to.UserIDs != nil {
		e.Restricted = true
		for u := range to.UserIDs {
			e.Users = append(e.Users, u)
		}
	}
	return e
}

func (e *customEvent) outbound() outbound {
	to := outbound{TeamID: e.TeamID, OmitConn: e.OmitConn}
	if e.Restricted {
		to.UserIDs = make(map[string]bool, len(e.Users))
		for _, u := range e.Users {
			to.UserIDs[u] = true
		}
	}
	return to
}

// publishPluginCustomEvent sends a plugin's custom event to this server's
// clients and, through the change log, to every other replica's. The log
// is written first: an event that cannot reach every replica reaches none
// and the sender hears 503 (store_unavailable) and may retry. It returns
// how many of this server's clients got the event.
func (s *Server) publishPluginCustomEvent(ctx context.Context, to outbound, name string, data json.RawMessage, bc wsBroadcast) (int, error) {
	e := newCustomEvent(to, name, data, bc)
	if s.feed != nil {
		raw, err := json.Marshal(e)
		if err != nil {
			return 0, err
		}
		if err := s.feed.PublishEvent(ctx, registry.ChangePluginEvent, raw); err != nil {
			return 0, err
		}
	}
	count := make(chan int, 1)
	s.apply(ctx, change{kind: registry.ChangePluginEvent, event: e, count: count})
	return <-count, nil
}

// remoteChange reads what a change row from another replica names and
// returns it as a change to apply. ok false: nothing to apply (a kind
// that caches nothing here, or a row about something gone since). An
// error is worth retrying (the database went away).
func (s *Server) remoteChange(ctx context.Context, row registry.Change) (c change, ok bool, err error) {
	c.kind = row.Kind
	// gone: what the row names was removed after it (a pruned version):
	// a later row says so, nothing to apply for this one.
	gone := func(err error) (change, bool, error) {
		if errors.Is(err, registry.ErrBlobNotFound) || errors.Is(err, registry.ErrVersionNotFound) || errors.Is(err, registry.ErrPluginNotFound) {
			return c, false, nil
		}
		return c, false, err
	}
	decode := func(v any) error {
		if err := json.Unmarshal(row.Payload, v); err != nil {
			return fmt.Errorf("change %d (%s): %w", row.ID, row.Kind, err)
		}
		return nil
	}
	switch row.Kind {
	case registry.ChangeVersion:
		var p registry.ChangeVersionPayload
		if err := decode(&p); err != nil {
			return c, false, err
		}
		if c.version, err = s.store.Version(ctx, p.PluginID, p.Version); err != nil {
			return gone(err)
		}
		c.certified, c.asOf = p.Certified, row.ID
		if !p.Certified {
			// The owner's usage this server counted lacks the version
			// (quota.go): count it again from the store at the next push.
			s.quota.mu.Lock()
			clear(s.quota.usage)
			s.quota.mu.Unlock()
		}
	case registry.ChangeTeamState:
		var p teamStatePayload
		if err := decode(&p); err != nil {
			return c, false, err
		}
		if c.plugin, err = s.store.Plugin(ctx, p.PluginID); err != nil {
			return gone(err)
		}
		c.teamID = p.TeamID
		c.after = registry.TeamState{TeamID: p.TeamID, PluginID: p.PluginID, Enabled: p.Enabled, Version: p.Version}
		c.before = registry.TeamState{TeamID: p.TeamID, PluginID: p.PluginID}
		if p.WasEnabled != nil {
			c.before.Enabled, c.before.Version = *p.WasEnabled, p.WasVersion
		} else {
			// A row without the state before (written by an older
			// binary): a change of Enabled is the likelier one, and a
			// page treats plugin_enabled and plugin_updated alike.
			c.before.Enabled = !p.Enabled
		}
	case registry.ChangePrune:
		var p registry.ChangePrunePayload
		if err := decode(&p); err != nil {
			return c, false, err
		}
		c.collected = p.Collected
	case registry.ChangeEncodings:
		var p registry.ChangeBlobPayload
		if err := decode(&p); err != nil {
			return c, false, err
		}
		if c.encodings, err = s.feed.BlobEncodings(ctx, p.SHA256); err != nil {
			return gone(err)
		}
		c.sha = p.SHA256
	case registry.ChangeSourceMap:
		var p registry.ChangeVersionPayload
		if err := decode(&p); err != nil {
			return c, false, err
		}
		v, err := s.store.Version(ctx, p.PluginID, p.Version)
		if err != nil {
			return gone(err)
		}
		a, has := v.Artifacts[p.Kind]
		if !has {
			return c, false, nil
		}
		c.artifact = a
	case registry.ChangeBytecode:
		var p registry.ChangeBlobPayload
		if err := decode(&p); err != nil {
			return c, false, err
		}
		bs, isBC := s.store.(registry.Bytecodes)
		if !isBC {
			return c, false, nil
		}
		all, err := bs.Bytecode(ctx, p.SHA256)
		if err != nil {
			return gone(err)
		}
		found := false
		for _, b := range all {
			if b.BytecodeVersion == p.BytecodeVersion {
				c.bytecode, found = b, true
			}
		}
		if !found {
			return c, false, nil
		}
	case changeServerPart:
	case changePreview:
		c.preview = &previewShare{}
		if err := decode(c.preview); err != nil {
			return c, false, err
		}
		if c.preview.TTLMS <= 0 || time.Duration(c.preview.TTLMS)*time.Millisecond > maxPreviewTTL {
			c.preview.TTLMS = defaultPreviewTTL.Milliseconds()
		}
	case registry.ChangePluginEvent:
		c.event = &customEvent{}
		if err := decode(c.event); err != nil {
			return c, false, err
		}
	default:
		// KV entries, embed apps and tokens, settings: this server
		// caches none of them (every request reads the store).
		return c, false, nil
	}
	return c, true, nil
}

// teamStatePayload is registry.ChangeTeamStatePayload with the state
// before the change, when the row carries it.
type teamStatePayload struct {
	registry.ChangeTeamStatePayload
	WasEnabled *bool  `json:"was_enabled"`
	WasVersion string `json:"was_version"`
}

// changePreview is the change log kind of a developer's preview lease
// (previewShare): leases live in each replica's memory, and every replica
// keeps every lease, so a developer's requests see their preview whichever
// replica answers.
const changePreview = "preview"

// previewShare is a preview lease as the change log carries it.
type previewShare struct {
	User    string   `json:"user_id"`
	Plugin  string   `json:"plugin_id"`
	Version string   `json:"version,omitempty"`
	Teams   []string `json:"teams,omitempty"`
	TTLMS   int64    `json:"ttl_ms,omitempty"`
	Ended   bool     `json:"ended,omitempty"`
}

// sharePreview tells the other replicas of a lease taken, renewed or
// ended here. Without a change log (one server) it does nothing.
func (s *Server) sharePreview(ctx context.Context, p previewShare) error {
	if s.feed == nil {
		return nil
	}
	raw, err := json.Marshal(p)
	if err != nil {
		return err
	}
	return s.feed.PublishEvent(ctx, changePreview, raw)
}

// changeServerPart is registry.ChangeServerPart: a plugin's server part
// was pinned, disabled or enabled (Mattermost's plugin list changes).
const changeServerPart = "server_part"

// applyTimeout bounds the store reads of one remote change.
const applyTimeout = 30 * time.Second
