package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/mmtoolkit/mmtoolkit/internal/app/changes"
	"github.com/mmtoolkit/mmtoolkit/internal/app/previews"
	"github.com/mmtoolkit/mmtoolkit/registry"
)

// Every write to the registry reaches what it affects through the change
// feed (internal/app/changes): the caches it invalidates (manifest
// generation, artifact index, merged plugin lists, the console's
// catalogue), the websocket events it publishes and the background work it
// asks for. A change is published to s.changes whether this server made it
// (right after the store call returned) or another replica of the same
// database did (read from the change log: replica.go, remoteChange below).
// Keeping one path is what makes a replica answer the same as the one that
// took the write: a cache a local change invalidates, a remote one
// invalidates too.
//
// subscribe wires the server's parts to the feed, in the order a change
// must reach them: the artifact index first (an event's manifest entry
// names artifacts), then the caches, then the events, then background
// work.
func (s *Server) subscribe() {
	f := &s.changes
	s.index.Subscribe(f) // internal/app/artifacts
	// Then what serves pruned blobs' bytes (bundles.go).
	changes.On(f, "served blobs", func(_ context.Context, c changes.BlobsPruned) { s.forgetServed(c.SHAs) })
	s.gen.Subscribe(f)                       // manifests, mobile manifests, merged plugin lists, the console's catalogue
	s.quota.Subscribe(f)                     // "owner quota": counted again after a prune or another replica's push
	s.parts.Subscribe(f)                     // "upstream plugin list": what the console shows of Mattermost's plugins
	s.previews.Subscribe(f)                  // leases taken, renewed or ended on another replica (internal/app/previews)
	s.notify.Subscribe(f, s.tellPluginEvent) // "plugin events": internal/app/notify decides, events.go delivers
	changes.On(f, "custom plugin events", func(_ context.Context, c pluginEventChange) {
		s.hub.publish(c.event.outbound(), wsEvent{Event: c.event.Event, Data: c.event.Data, Broadcast: c.event.Broadcast}, c.delivered)
	})
	changes.On(f, "background work", func(_ context.Context, c changes.VersionStored) {
		if c.Remote() {
			return // the replica that stored it does its background work
		}
		v := c.Version
		for _, a := range v.Artifacts {
			if data, ok := c.Blobs[a.SHA256]; ok {
				s.compressor.Enqueue(a.SHA256, data, a.ContentType)
			}
		}
		s.mobile.versionStored(v)
	})
	s.previews.SubscribePruning(f) // internal/app/previews: the replica that stored a prerelease prunes
}

// pluginEventChange is a plugin's custom event on the feed: the server's
// own change kind, written to the change log so every replica's clients
// get it.
type pluginEventChange struct {
	event     *customEvent
	delivered chan<- int // receives how many of this server's clients got it
}

// Kind implements changes.Change.
func (pluginEventChange) Kind() string { return registry.ChangePluginEvent }

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
	s.changes.Publish(ctx, pluginEventChange{event: e, delivered: count})
	return <-count, nil
}

// remoteChange reads what a change row from another replica names and
// returns it as the change to publish. ok false: nothing to publish (a kind
// that caches nothing here, or a row about something gone since). An error
// is worth retrying (the database went away).
func (s *Server) remoteChange(ctx context.Context, row registry.Change) (c changes.Change, ok bool, err error) {
	// gone: what the row names was removed after it (a pruned version):
	// a later row says so, nothing to apply for this one.
	gone := func(err error) (changes.Change, bool, error) {
		if errors.Is(err, registry.ErrBlobNotFound) || errors.Is(err, registry.ErrVersionNotFound) || errors.Is(err, registry.ErrPluginNotFound) {
			return nil, false, nil
		}
		return nil, false, err
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
			return nil, false, err
		}
		v, err := s.store.Version(ctx, p.PluginID, p.Version)
		if err != nil {
			return gone(err)
		}
		if p.Certified {
			return changes.VersionCertified{Version: v}, true, nil
		}
		return changes.VersionStored{Version: v, AsOf: row.ID}, true, nil
	case registry.ChangeTeamState:
		after, before, err := changes.TeamStateRow(row.Payload)
		if err != nil {
			return nil, false, fmt.Errorf("change %d (%s): %w", row.ID, row.Kind, err)
		}
		plugin, err := s.store.Plugin(ctx, after.PluginID)
		if err != nil {
			return gone(err)
		}
		tc := changes.TeamStateChanged{TeamID: after.TeamID, Plugin: plugin, After: after,
			Before: registry.TeamState{TeamID: after.TeamID, PluginID: after.PluginID}}
		if before != nil {
			tc.Before = *before
		} else {
			// A row without the state before (written by an older
			// binary): a change of Enabled is the likelier one, and a
			// page treats plugin_enabled and plugin_updated alike.
			tc.Before.Enabled = !after.Enabled
		}
		return tc, true, nil
	case registry.ChangePrune:
		var p registry.ChangePrunePayload
		if err := decode(&p); err != nil {
			return nil, false, err
		}
		return changes.BlobsPruned{SHAs: p.Collected}, true, nil
	case registry.ChangeEncodings:
		var p registry.ChangeBlobPayload
		if err := decode(&p); err != nil {
			return nil, false, err
		}
		enc, err := s.feed.BlobEncodings(ctx, p.SHA256)
		if err != nil {
			return gone(err)
		}
		return changes.EncodingsStored{SHA: p.SHA256, Encodings: enc}, true, nil
	case registry.ChangeSourceMap:
		var p registry.ChangeVersionPayload
		if err := decode(&p); err != nil {
			return nil, false, err
		}
		v, err := s.store.Version(ctx, p.PluginID, p.Version)
		if err != nil {
			return gone(err)
		}
		a, has := v.Artifacts[p.Kind]
		if !has {
			return nil, false, nil
		}
		return changes.SourceMapStored{Artifact: a}, true, nil
	case registry.ChangeBytecode:
		var p registry.ChangeBlobPayload
		if err := decode(&p); err != nil {
			return nil, false, err
		}
		bs, isBC := s.store.(registry.Bytecodes)
		if !isBC {
			return nil, false, nil
		}
		all, err := bs.Bytecode(ctx, p.SHA256)
		if err != nil {
			return gone(err)
		}
		for _, b := range all {
			if b.BytecodeVersion == p.BytecodeVersion {
				return changes.BytecodeStored{Bytecode: b}, true, nil
			}
		}
		return nil, false, nil
	case changeServerPart:
		return changes.ServerPartChanged{}, true, nil
	case previews.ChangeKind:
		c, err := previews.Decode(row.Payload)
		if err != nil {
			return nil, false, fmt.Errorf("change %d (%s): %w", row.ID, row.Kind, err)
		}
		return c, true, nil
	case registry.ChangePluginEvent:
		e := &customEvent{}
		if err := decode(e); err != nil {
			return nil, false, err
		}
		return pluginEventChange{event: e}, true, nil
	default:
		// KV entries, embed apps and tokens, settings: this server
		// caches none of them (every request reads the store).
		return nil, false, nil
	}
}

// changeServerPart is registry.ChangeServerPart: a plugin's server part
// was pinned, disabled or enabled (Mattermost's plugin list changes).
const changeServerPart = "server_part"

// applyTimeout bounds the store reads of one remote change.
const applyTimeout = 30 * time.Second
