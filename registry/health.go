package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Crash thresholds: a version is flagged for admins once this many crashes
// came from at least this many different users. Nothing is disabled
// automatically: a flag is information for an admin.
const (
	FlagCrashes = 10
	FlagUsers   = 3

	maxRecent = 20  // latest reports kept per version
	maxUsers  = 100 // distinct users remembered per version
)

// CrashReport is one plugin crash a client reported.
type CrashReport struct {
	PluginID string    `json:"plugin_id"`
	Version  string    `json:"version"`
	TeamID   string    `json:"team_id,omitempty"`
	UserID   string    `json:"user_id"`
	Slot     string    `json:"slot,omitempty"`
	Message  string    `json:"message"`
	Stack    string    `json:"stack,omitempty"`
	Platform string    `json:"platform,omitempty"`
	At       time.Time `json:"at"`
}

// Health is what clients reported about one plugin version.
type Health struct {
	PluginID string `json:"plugin_id"`
	Version  string `json:"version"`
	Crashes  int    `json:"crashes"`
	// Users counts distinct reporting users (up to 100).
	Users   int           `json:"users"`
	Flagged bool          `json:"flagged"`
	LastAt  time.Time     `json:"last_at"`
	Recent  []CrashReport `json:"recent"` // newest first
}

type healthRecord struct {
	Health
	UserIDs []string `json:"user_ids"`
}

// add counts crash c in h, for both stores: c stamped by now (called only
// then) unless it carries its time, the user remembered (up to maxUsers), the flag set at
// FlagCrashes crashes from FlagUsers users, the newest maxRecent reports
// kept.
func (h *healthRecord) add(c CrashReport, now func() time.Time) {
	if c.At.IsZero() {
		c.At = now()
	}
	h.PluginID, h.Version = c.PluginID, c.Version
	h.Crashes++
	h.LastAt = c.At
	if !slices.Contains(h.UserIDs, c.UserID) && len(h.UserIDs) < maxUsers {
		h.UserIDs = append(h.UserIDs, c.UserID)
	}
	h.Users = len(h.UserIDs)
	h.Flagged = h.Crashes >= FlagCrashes && h.Users >= FlagUsers
	h.Recent = append([]CrashReport{c}, h.Recent...)
	if len(h.Recent) > maxRecent {
		h.Recent = h.Recent[:maxRecent]
	}
}

// ReportCrash records a crash of an existing version and returns the
// version's health after it.
func (b *Bolt) ReportCrash(ctx context.Context, c CrashReport) (Health, error) {
	var h healthRecord
	err := b.update(ctx, func(tx *bolt.Tx) error {
		vb := tx.Bucket(bucketVersions).Bucket([]byte(c.PluginID))
		if vb == nil {
			return ErrPluginNotFound
		}
		if vb.Get([]byte(c.Version)) == nil {
			return ErrVersionNotFound
		}
		pb, err := tx.Bucket(bucketHealth).CreateBucketIfNotExists([]byte(c.PluginID))
		if err != nil {
			return err
		}
		if _, err := getJSON(pb, c.Version, &h); err != nil {
			return err
		}
		h.add(c, b.now)
		return putJSON(pb, c.Version, h)
	})
	if err != nil {
		return Health{}, fmt.Errorf("registry: report crash of %s@%s: %w", c.PluginID, c.Version, err)
	}
	return h.Health, nil
}

// PluginHealth returns the health of every version of a plugin that had a
// crash report, by version.
func (b *Bolt) PluginHealth(ctx context.Context, pluginID string) (map[string]Health, error) {
	out := map[string]Health{}
	err := b.view(ctx, func(tx *bolt.Tx) error {
		pb := tx.Bucket(bucketHealth).Bucket([]byte(pluginID))
		if pb == nil {
			return nil
		}
		return pb.ForEach(func(k, v []byte) error {
			var h healthRecord
			if err := json.Unmarshal(v, &h); err != nil {
				return fmt.Errorf("decode health of %s: %w", k, err)
			}
			out[string(k)] = h.Health
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("registry: health of %s: %w", pluginID, err)
	}
	return out, nil
}

// CrashLog keeps the crashes clients report. *Bolt implements it.
type CrashLog interface {
	ReportCrash(ctx context.Context, c CrashReport) (Health, error)
	PluginHealth(ctx context.Context, pluginID string) (map[string]Health, error)
}

var _ CrashLog = (*Bolt)(nil)
