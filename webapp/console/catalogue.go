package console

import (
	"slices"
	"strings"
)

// Certification levels, highest first.
var Levels = []string{"official", "certified", "community", "unverified"}

// Catalogue is an immutable snapshot of every plugin with its latest
// version, indexed for the directory's search. Build one with NewCatalogue
// and share it between requests until the registry changes.
type Catalogue struct {
	// Plugins sorted by name (case-insensitively), then id.
	Plugins []*PluginInfo
	byID    map[string]*PluginInfo
	// text[i] is the lower-cased name, id and description of Plugins[i].
	text []string
}

// NewCatalogue indexes plugins; it takes ownership of the slice.
func NewCatalogue(plugins []*PluginInfo) *Catalogue {
	type entry struct {
		p          *PluginInfo
		name, text string
	}
	entries := make([]entry, len(plugins))
	for i, p := range plugins {
		name := strings.ToLower(p.Latest.Name)
		entries[i] = entry{p, name, name + "\x00" + strings.ToLower(p.ID+"\x00"+p.Latest.Description)}
	}
	slices.SortFunc(entries, func(a, b entry) int {
		if c := strings.Compare(a.name, b.name); c != 0 {
			return c
		}
		return strings.Compare(a.p.ID, b.p.ID)
	})
	c := &Catalogue{Plugins: plugins, byID: make(map[string]*PluginInfo, len(plugins)), text: make([]string, len(plugins))}
	for i, e := range entries {
		c.Plugins[i], c.text[i] = e.p, e.text
		c.byID[e.p.ID] = e.p
	}
	return c
}

// Plugin returns the plugin with the id, or nil.
func (c *Catalogue) Plugin(id string) *PluginInfo { return c.byID[id] }

// Query selects directory entries; empty fields match everything.
type Query struct {
	// Text matches the name, id and description, case-insensitively;
	// every word must match.
	Text          string
	Slot          string
	Certification string
}

// Search returns the plugins matching q in catalogue order, plugins whose
// name matches every word first.
func (c *Catalogue) Search(q Query) []*PluginInfo {
	words := strings.Fields(strings.ToLower(q.Text))
	var byName, others []*PluginInfo
	for i, p := range c.Plugins {
		if q.Certification != "" && p.Latest.Certification != q.Certification {
			continue
		}
		if q.Slot != "" && !fillsSlot(p, q.Slot) {
			continue
		}
		text, all, inName := c.text[i], true, true
		name, _, _ := strings.Cut(text, "\x00")
		for _, w := range words {
			if !strings.Contains(text, w) {
				all = false
				break
			}
			inName = inName && strings.Contains(name, w)
		}
		switch {
		case !all:
		case inName:
			byName = append(byName, p)
		default:
			others = append(others, p)
		}
	}
	return append(byName, others...)
}

func fillsSlot(p *PluginInfo, slot string) bool {
	for _, s := range p.Latest.Slots {
		if s.Slot == slot {
			return true
		}
	}
	return false
}
