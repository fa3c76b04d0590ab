package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/mmtoolkit/mmtoolkit/bundler"
)

// watchPoll is how often the directory is checked. Polling needs no
// platform-specific watcher and costs little on a plugin's few hundred files;
// with the server's compile time it keeps save-to-page under a second.
const watchPoll = 200 * time.Millisecond

// watchAndPush pushes dir now and again after every change, until Ctrl-C.
// Failed pushes (compile errors) are printed and watching goes on. A save
// that changes no file's contents pushes nothing; one the server finds
// changes no bundle stores nothing (it answers unchanged).
//
// Every build is a prerelease, which teams that follow the latest version
// never serve: the watch holds a preview session (previewSession) so that
// the developer's own pages get each build, and ends it when it stops.
func watchAndPush(c *client, dir string, source bundler.DirOptions, stdout, stderr io.Writer) error {
	st, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if !st.IsDir() {
		return fmt.Errorf("--watch needs a plugin directory, not %s", dir)
	}
	ttl, err := previewTTL()
	if err != nil {
		return err
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(stop)

	// The cache keeps what packing parsed, so a save re-parses only the
	// files that changed.
	p := &packer{dev: true, cache: bundler.NewCache(1, 64<<20, 0), source: source}
	defer p.cache.Close()
	preview := &previewSession{c: c, ttl: ttl, stderr: stderr}
	defer preview.end()
	last, lastContent := "", ""
	tick := time.NewTicker(watchPoll)
	defer tick.Stop()
	for {
		sig, err := treeSignature(dir, p.lastKeep)
		if err != nil {
			return err
		}
		if sig != last {
			last = sig
			// Read before the push: a save during the push is not in it,
			// and must not count as pushed.
			content, err := contentSignature(dir, p.lastKeep)
			if err != nil {
				return err
			}
			if content == lastContent {
				fmt.Fprintf(stderr, "[%s] saved without a change in any file's contents: nothing pushed\n", time.Now().Format("15:04:05"))
			} else {
				lastContent = ""
				deps := strings.Join(p.lastKeep, "\n")
				t0 := time.Now()
				p.last = nil
				err := pushOnce(c, p, dir, stdout, stderr)
				if strings.Join(p.lastKeep, "\n") != deps {
					// The npm files watched changed with the import graph.
					var serr error
					if last, serr = treeSignature(dir, p.lastKeep); serr != nil {
						return serr
					}
					if content, serr = contentSignature(dir, p.lastKeep); serr != nil {
						return serr
					}
				}
				var ee exitError
				switch {
				case errors.As(err, &ee):
					// diagnostics already printed
				case err != nil:
					fmt.Fprintf(stderr, "push failed: %v\n", err)
				case p.last != nil:
					lastContent = content
					if !p.last.Created && !p.last.Certified {
						fmt.Fprintf(stderr, "  its bundles equal the last build's: nothing stored, %s stays the preview\n", p.last.Version)
					}
					preview.take(p.last.ID, p.last.Version)
				}
				fmt.Fprintf(stderr, "[%s] watching %s (%.0f ms); Ctrl-C to stop\n", time.Now().Format("15:04:05"), dir, float64(time.Since(t0).Microseconds())/1000)
			}
		}
		select {
		case <-stop:
			return nil
		case <-tick.C:
			preview.renewIfDue()
		}
	}
}

// defaultPreviewTTL is how long the server keeps a preview session that is
// not renewed; the watch renews it every third of that. So a watch that
// is killed leaves its build live in its developer's pages for at most
// this long (and nowhere else ever). MMTOOLKIT_PREVIEW_TTL (seconds, 1 to
// 600) sets another.
const defaultPreviewTTL = 30 * time.Second

func previewTTL() (time.Duration, error) {
	raw := os.Getenv("MMTOOLKIT_PREVIEW_TTL")
	if raw == "" {
		return defaultPreviewTTL, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > 600 {
		return 0, fmt.Errorf("MMTOOLKIT_PREVIEW_TTL=%q: give seconds from 1 to 600, or unset it for %d", raw, int(defaultPreviewTTL/time.Second))
	}
	return time.Duration(n) * time.Second, nil
}

// previewSession is the watch's preview session on the server (PUT and
// DELETE /api/v1/plugins/{id}/preview): while it holds, the developer's
// own pages serve the last build, marked "preview", in the teams that
// enabled the plugin; nobody else's do. It is a lease: renewed while the
// watch runs, ended when it stops, and ended by the server when a watch
// that died stops renewing it.
type previewSession struct {
	c      *client
	ttl    time.Duration
	stderr io.Writer

	id, version string
	renewAt     time.Time
	failed      bool // the last request failed: said once, until one works
	announced   bool
}

type previewAnswer struct {
	Version string   `json:"version"`
	Teams   []string `json:"teams"`
}

// take starts the session on version, or moves it there.
func (s *previewSession) take(id, version string) {
	if s.id != "" && s.id != id {
		s.end() // plugin.json's id changed
	}
	s.id, s.version = id, version
	if a, ok := s.put(version); ok && !s.announced {
		s.announced = true
		s.announce(a)
	}
}

func (s *previewSession) announce(a previewAnswer) {
	if len(a.Teams) == 0 {
		fmt.Fprintf(s.stderr, "preview: no team of yours has %s enabled and following its latest version, so no page of yours shows the builds: enable it for a team (mmtoolkit enable --team TEAM --plugin %s), or have its admin unpin it (mmtoolkit follow TEAM %s)\n", s.id, s.id, s.id)
		return
	}
	fmt.Fprintf(s.stderr, "preview: your own pages serve each build of %s (marked preview) in %d team(s) that follow its latest version; everyone else keeps the release; it ends when the watch stops\n", s.id, len(a.Teams))
}

// renewIfDue renews the session every third of its TTL.
func (s *previewSession) renewIfDue() {
	if s.id != "" && s.version != "" && !time.Now().Before(s.renewAt) {
		s.put(s.version)
	}
}

func (s *previewSession) put(version string) (previewAnswer, bool) {
	body, _ := json.Marshal(map[string]any{"version": version, "ttl_seconds": int(s.ttl / time.Second)})
	var a previewAnswer
	_, err := s.c.do("PUT", "/api/v1/plugins/"+url.PathEscape(s.id)+"/preview", "application/json", bytes.NewReader(body), &a)
	// Retried at the next renewal either way; a failure costs the
	// preview, never the watch.
	s.renewAt = time.Now().Add(s.ttl / 3)
	if err != nil {
		if !s.failed {
			fmt.Fprintf(s.stderr, "preview: %v (retrying every %v)\n", err, s.ttl/3)
		}
		s.failed = true
		return a, false
	}
	if s.failed {
		fmt.Fprintf(s.stderr, "preview: %s@%s is your pages' preview again\n", s.id, version)
	}
	s.failed = false
	return a, true
}

// end ends the session: the developer's pages go back to what their teams
// serve.
func (s *previewSession) end() {
	if s.id == "" {
		return
	}
	id := s.id
	s.id, s.version, s.announced = "", "", false
	if _, err := s.c.do("DELETE", "/api/v1/plugins/"+url.PathEscape(id)+"/preview", "", nil, nil); err != nil {
		fmt.Fprintf(s.stderr, "preview: could not end it (%v): the server ends it on its own within %v\n", err, s.ttl)
		return
	}
	fmt.Fprintf(s.stderr, "preview ended: your pages are back on what your teams serve of %s\n", id)
}

// contentSignature hashes the contents of the files treeSignature
// watches, so a save that changed no file's bytes (an editor's save
// without edits, a touch) is told apart from an edit.
func contentSignature(dir string, deps []string) (string, error) {
	h := sha256.New()
	add := func(rel, path string) {
		data, err := os.ReadFile(path)
		if err != nil {
			fmt.Fprintf(h, "%s\x00gone\n", rel)
			return
		}
		fmt.Fprintf(h, "%s\x00%d\n", rel, len(data))
		h.Write(data)
	}
	for _, rel := range deps {
		add(rel, filepath.Join(dir, filepath.FromSlash(rel)))
	}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if !d.IsDir() {
			add(p, p)
		}
		return nil
	})
	return hex.EncodeToString(h.Sum(nil)), err
}

// treeSignature summarises names, sizes and modification times of every
// file under dir outside .git and node_modules/, and of the node_modules
// files the last pack sent (deps), so any save changes it, without
// stat'ing a repository's tens of thousands of npm files every poll.
func treeSignature(dir string, deps []string) (string, error) {
	h := fnv.New64a()
	for _, rel := range deps {
		if info, err := os.Stat(filepath.Join(dir, filepath.FromSlash(rel))); err == nil {
			fmt.Fprintf(h, "%s\x00%d\x00%d\n", rel, info.Size(), info.ModTime().UnixNano())
		} else {
			fmt.Fprintf(h, "%s\x00gone\n", rel)
		}
	}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if d.IsDir() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%d\x00%d\n", p, info.Size(), info.ModTime().UnixNano())
		return nil
	})
	return fmt.Sprintf("%x", h.Sum64()), err
}
