package server

import "encoding/json"

// MergeWebappList is mergeWebappList with mmtoolkit's entries made from
// ids ({"id","name":"","version":"1.0.0"}), for the fuzz test.
func MergeWebappList(upstream []byte, ourIDs []string, rule PluginConflict) ([]byte, bool) {
	ours := make([]ourEntry, len(ourIDs))
	for i, id := range ourIDs {
		b, _ := json.Marshal(mattermostClientManifest{ID: id, Version: "1.0.0"})
		ours[i] = ourEntry{id, b}
	}
	body, _, ok := mergeWebappList(upstream, ours, rule)
	return body, ok
}
