// Command standin runs a stand-in Mattermost as a process, for browser
// tests of mmtoolkit in front of a Mattermost (serve --upstream): the
// sandbox answers the API the webapp host needs (users, teams, channels,
// posts, the websocket; demo users with password "mmtoolkit"), and
// mattermosttest answers the plugin routes as Mattermost does, with the
// plugins given by -plugin installed and enabled:
//
//	GET /api/v4/plugins/webapp, /static/plugins/{id}/..., /plugins/{id}/...
//
// A plugin directory is a Mattermost plugin's layout: plugin.json and the
// file its webapp.bundle_path names, with the other files of that
// directory served next to it (chunks, images).
//
//	go run ./apiv4-proxy/mattermosttest/standin -addr 127.0.0.1:0 -plugin dir [-plugin dir2]
//
// It prints "stand-in Mattermost serving on http://ADDR" and runs until
// SIGINT or SIGTERM.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/mmtoolkit/mmtoolkit/apiv4-proxy/mattermosttest"
	"github.com/mmtoolkit/mmtoolkit/apiv4-proxy/sandbox"
)

type dirs []string

func (d *dirs) String() string     { return strings.Join(*d, ",") }
func (d *dirs) Set(v string) error { *d = append(*d, v); return nil }

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "address to listen on")
	data := flag.String("data", "", "directory for the sandbox's database (default: a temporary one)")
	var plugins dirs
	flag.Var(&plugins, "plugin", "a plugin directory to install and enable (repeatable)")
	flag.Parse()
	if err := run(*addr, *data, plugins); err != nil {
		fmt.Fprintln(os.Stderr, "standin:", err)
		os.Exit(1)
	}
}

func run(addr, data string, plugins []string) error {
	if data == "" {
		d, err := os.MkdirTemp("", "mmtoolkit-standin-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		data = d
	}
	sb, err := sandbox.Open(filepath.Join(data, "sandbox.db"))
	if err != nil {
		return err
	}
	defer sb.Close()
	mm, err := mattermosttest.Start()
	if err != nil {
		return err
	}
	defer mm.Close()
	for _, dir := range plugins {
		if err := install(mm, dir); err != nil {
			return err
		}
	}
	mux := http.NewServeMux()
	for _, p := range []string{"GET /api/v4/plugins/webapp", "/static/plugins/", "/plugins/"} {
		mux.Handle(p, mm.Handler())
	}
	mux.Handle("/", sb.Handler())
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	fmt.Printf("stand-in Mattermost serving on http://%s\n", ln.Addr())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	return srv.Close()
}

// install installs and enables the plugin in dir, with the files of its
// bundle's directory.
func install(mm *mattermosttest.Mattermost, dir string) error {
	manifest, err := os.ReadFile(filepath.Join(dir, "plugin.json"))
	if err != nil {
		return err
	}
	var m struct {
		ID     string `json:"id"`
		Webapp *struct {
			BundlePath string `json:"bundle_path"`
		} `json:"webapp"`
	}
	if err := json.Unmarshal(manifest, &m); err != nil {
		return fmt.Errorf("%s/plugin.json: %w", dir, err)
	}
	if m.Webapp == nil || m.Webapp.BundlePath == "" {
		mm.InstallPlugin(manifest, nil)
		return nil
	}
	bundlePath := filepath.Join(dir, filepath.FromSlash(m.Webapp.BundlePath))
	bundle, err := os.ReadFile(bundlePath)
	if err != nil {
		return err
	}
	mm.InstallPlugin(manifest, bundle)
	bundleDir := filepath.Dir(bundlePath)
	return filepath.WalkDir(bundleDir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || p == bundlePath {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(bundleDir, p)
		mm.PluginFile(m.ID, filepath.ToSlash(rel), b)
		return nil
	})
}
