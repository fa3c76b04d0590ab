package main

import (
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
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
// Failed pushes (compile errors) are printed and watching goes on.
func watchAndPush(c *client, dir string, source bundler.DirOptions, stdout, stderr io.Writer) error {
	st, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if !st.IsDir() {
		return fmt.Errorf("--watch needs a plugin directory, not %s", dir)
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(stop)

	// The cache keeps what packing parsed, so a save re-parses only the
	// files that changed.
	p := &packer{dev: true, cache: bundler.NewCache(1, 64<<20, 0), source: source}
	defer p.cache.Close()
	last := ""
	tick := time.NewTicker(watchPoll)
	defer tick.Stop()
	for {
		sig, err := treeSignature(dir, p.lastKeep)
		if err != nil {
			return err
		}
		if sig != last {
			last = sig
			deps := strings.Join(p.lastKeep, "\n")
			t0 := time.Now()
			err := pushOnce(c, p, dir, stdout, stderr)
			if strings.Join(p.lastKeep, "\n") != deps {
				// The npm files watched changed with the import graph.
				var serr error
				if last, serr = treeSignature(dir, p.lastKeep); serr != nil {
					return serr
				}
			}
			var ee exitError
			switch {
			case errors.As(err, &ee):
				// diagnostics already printed
			case err != nil:
				fmt.Fprintf(stderr, "push failed: %v\n", err)
			}
			fmt.Fprintf(stderr, "[%s] watching %s (%.0f ms); Ctrl-C to stop\n", time.Now().Format("15:04:05"), dir, float64(time.Since(t0).Microseconds())/1000)
		}
		select {
		case <-stop:
			return nil
		case <-tick.C:
		}
	}
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
