// Command pack measures `mmtoolkit pack` and `push` of a plugin repository
// as it is after `npm ci`: a generated Mattermost plugin (plugin.json
// naming only webapp.bundle_path, ~30 source files importing their src/
// folders by bare name, SCSS-free so Dart Sass is not measured, an npm
// library of ES modules behind an "exports" map) next to tens of thousands
// of node_modules files the entry never reaches.
//
//	go run ./bench/pack -bin bin/mmtoolkit -unreachable 40000 -n 5
//
// It prints, each a median of -n runs: the time to walk the folder (what
// listing it costs: the first pass of the reader pack used before it
// resolved from the entry), the time to pack it from the entry (in
// process: stat calls and files sent), the time to compile what is sent,
// and with -bin the wall time of the `pack` and `push` commands against a
// server it starts. The files are in the page cache after generation, as
// on a developer's machine after `npm ci`.
package main

import (
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/mmtoolkit/mmtoolkit/bench/internal/benchserver"
	"github.com/mmtoolkit/mmtoolkit/bench/internal/measure"
	"github.com/mmtoolkit/mmtoolkit/bundler"
	"github.com/mmtoolkit/mmtoolkit/bundler/bundlertest"
	"github.com/mmtoolkit/mmtoolkit/bundler/pluginpkg"
	"github.com/mmtoolkit/mmtoolkit/slots"
)

func main() {
	bin := flag.String("bin", "", "mmtoolkit binary for the pack and push commands (empty: in-process figures only)")
	components := flag.Int("components", 30, "source files under webapp/src/components")
	library := flag.Int("library", 40, "modules of the npm library the components import")
	unreachable := flag.Int("unreachable", 40000, "node_modules files nothing imports")
	n := flag.Int("n", 5, "runs per figure (the median is printed)")
	flag.Parse()
	if err := run(*bin, *components, *library, *unreachable, *n); err != nil {
		fmt.Fprintln(os.Stderr, "bench/pack:", err)
		os.Exit(1)
	}
}

func run(bin string, components, library, unreachable, n int) error {
	dir, err := os.MkdirTemp("", "mmtoolkit-bench-pack")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	t0 := time.Now()
	want, err := bundlertest.Repo{Components: components, Library: library, Unreachable: unreachable}.Write(dir)
	if err != nil {
		return err
	}
	gen := time.Since(t0)

	var files int
	walk := measure.Median(n, func() error {
		files = 0
		return filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() {
				files++
			}
			return err
		})
	})
	fmt.Printf("repository: %d files (%d sent), written in %v\n", files, len(want), gen.Round(time.Millisecond))
	var pd *bundler.PackedDir
	var perr error
	pack := measure.Median(n, func() error {
		pd, perr = (*bundler.Cache)(nil).PackDir(dir, bundler.DirOptions{Known: slots.Known})
		return perr
	})
	if perr != nil {
		return perr
	}
	if len(pd.Files) != len(want) {
		return fmt.Errorf("pack sent %d files, the import graph has %d", len(pd.Files), len(want))
	}
	var sent int
	for _, b := range pd.Files {
		sent += len(b)
	}
	var res *bundler.Result
	compile := measure.Median(n, func() error {
		res, perr = bundler.Build(pd.Package, bundler.Web)
		return perr
	})
	if perr != nil {
		return perr
	}
	// What pack did before it resolved from the entry: read the whole
	// folder (limits raised so that it gets through), then prune.
	// (with a built bundle where plugin.json says, as after `npm run build`)
	if err := os.MkdirAll(filepath.Join(dir, "webapp", "dist"), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "webapp", "dist", "main.js"), []byte("/* built */"), 0o644); err != nil {
		return err
	}
	big := pluginpkg.Limits{MaxFiles: 1 << 20, MaxEntries: 1 << 21, MaxNameBytes: 1 << 30, MaxUnpackedBytes: 1 << 34}
	var rerr error
	read := measure.Median(n, func() error {
		_, rerr = pluginpkg.ReadDir(dir, big, slots.Known)
		return rerr
	})

	fmt.Printf("walk-folder   %8.1f ms  (listing all %d files, what a reader that walks the folder pays first)\n", ms(walk), files)
	if rerr != nil {
		fmt.Printf("read-folder   failed: %v\n", rerr)
	} else {
		fmt.Printf("read-folder   %8.1f ms  (pluginpkg.ReadDir of it all, limits raised: the old pack's first step)\n", ms(read))
	}
	fmt.Printf("pack-graph    %8.1f ms  (%d stat calls, %d files, %s sent)\n", ms(pack), pd.Stats, len(pd.Files), measure.KB(sent))
	fmt.Printf("compile       %8.1f ms  (web bundle %s, esbuild %v)\n", ms(compile), measure.KB(len(res.JS)), res.Esbuild.Round(time.Millisecond))
	if bin == "" {
		return nil
	}

	srv, err := benchserver.Start(bin)
	if err != nil {
		return err
	}
	defer srv.Stop()
	env := append(os.Environ(), "MMTOOLKIT_SERVER="+srv.URL, "MMTOOLKIT_USER=dev", "MMTOOLKIT_PASSWORD=mmtoolkit", "MMTOOLKIT_TOKEN=")
	out := filepath.Join(os.TempDir(), fmt.Sprintf("mmtoolkit-bench-pack-%d.tar.gz", os.Getpid()))
	defer os.Remove(out)
	cli := measure.Median(n, func() error {
		return command(env, bin, "pack", "-o", out, dir)
	})
	manifest := filepath.Join(dir, "plugin.json")
	raw, err := os.ReadFile(manifest)
	if err != nil {
		return err
	}
	version := 0
	var buildMS []string
	push := measure.Median(n, func() error {
		// Every push a new version, so the server compiles each.
		version++
		edited := strings.Replace(string(raw), `"version":"1.0.0"`, fmt.Sprintf(`"version":"1.0.%d"`, version), 1)
		if err := os.WriteFile(manifest, []byte(edited), 0o644); err != nil {
			return err
		}
		cmd := exec.Command(bin, "push", dir)
		cmd.Env = env
		o, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("push: %v\n%s", err, o)
		}
		if m := builtIn.FindSubmatch(o); m != nil {
			buildMS = append(buildMS, string(m[1]))
		}
		return nil
	})
	fmt.Printf("cli-pack      %8.1f ms  (mmtoolkit pack, process start to archive written)\n", ms(cli))
	fmt.Printf("cli-push      %8.1f ms  (mmtoolkit push of the folder, a new version each; server build times %s ms)\n", ms(push), strings.Join(buildMS, ", "))
	return nil
}

var builtIn = regexp.MustCompile(`built in (\d+) ms`)

func command(env []string, bin string, args ...string) error {
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	if o, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %v\n%s", strings.Join(args, " "), err, o)
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
