package serverpart

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/mmtoolkit/mmtoolkit/bundler/pluginpkg"
)

// Archive writes the archive Mattermost is given: <id>/plugin.json
// without the webapp section (and without mmtoolkit's own fields), so
// Mattermost never serves the webapp itself and mmtoolkit's per-team
// enablement stays the only way to it; every server file, executable
// (0755, as Mattermost starts them); and assets/ and the icon, which
// server code reads from its bundle path. The original archive is not
// used: its webapp would load in every team.
func Archive(pkg *pluginpkg.Package) ([]byte, error) {
	var man map[string]json.RawMessage
	if err := json.Unmarshal(pkg.RawManifest, &man); err != nil {
		return nil, fmt.Errorf("server part: plugin.json: %w", err)
	}
	for _, k := range []string{"webapp", "mobile", "slots", "proxy", "kv", "screenshots"} {
		delete(man, k)
	}
	pj, err := json.MarshalIndent(man, "", "  ")
	if err != nil {
		return nil, err
	}
	type entry struct {
		data []byte
		mode int64
	}
	entries := map[string]entry{"plugin.json": {pj, 0o644}}
	for p, data := range pkg.Server {
		entries[p] = entry{data, 0o755}
	}
	for p, data := range pkg.Files {
		if strings.HasPrefix(p, "assets/") || p == pkg.Manifest.IconPath {
			entries[p] = entry{data, 0o644}
		}
	}
	paths := make([]string, 0, len(entries))
	for p := range entries {
		paths = append(paths, p)
	}
	sort.Slice(paths, func(i, j int) bool {
		if (paths[i] == "plugin.json") != (paths[j] == "plugin.json") {
			return paths[i] == "plugin.json"
		}
		return paths[i] < paths[j]
	})
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed) // executables: tens of MB, compressed once per push
	tw := tar.NewWriter(zw)
	top := pkg.Manifest.ID + "/"
	epoch := time.Unix(0, 0).UTC()
	dirs := map[string]bool{} // written before their files, as `make dist` writes them
	for _, p := range paths {
		for i := 0; i < len(p); i++ {
			if d := p[:i+1]; p[i] == '/' && !dirs[d] {
				dirs[d] = true
				if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: top + d, Mode: 0o755, ModTime: epoch}); err != nil {
					return nil, err
				}
			}
		}
		e := entries[p]
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: top + p, Mode: e.mode, Size: int64(len(e.data)), ModTime: epoch}); err != nil {
			return nil, err
		}
		if _, err := tw.Write(e.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
