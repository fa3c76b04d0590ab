// Command push measures push-to-servable: the time from sending a plugin
// package to the server until its new version's bundle can be fetched, for
// a plugin directory, over N distinct versions, against a running
// `mmtoolkit serve` it starts itself.
//
//	go run ./bench/push -bin bin/mmtoolkit -plugin DIR -n 20
//
// Each version after the first also edits one of the plugin's own source
// files (-edit, the developer loop: edit, push, look), so a server that
// keeps what it parsed for the previous push still has to compile the
// change. The first push (nothing kept yet) and the re-pushes are reported
// apart.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/mmtoolkit/mmtoolkit/bench/internal/benchserver"
	"github.com/mmtoolkit/mmtoolkit/bundler/pluginpkg"
	"github.com/mmtoolkit/mmtoolkit/slots"
)

func main() {
	bin := flag.String("bin", "bin/mmtoolkit", "mmtoolkit binary")
	dir := flag.String("plugin", "docs/examples/hello", "plugin directory")
	n := flag.Int("n", 20, "versions to push")
	name := flag.String("name", "", "label for the summary line (default: the directory)")
	gap := flag.Duration("gap", 0, "pause between pushes, so the previous push's background work (precompression, bytecode) is done, as between a developer's saves")
	edit := flag.String("edit", "auto", `source file (package path) each version after the first edits; "auto" picks the plugin's first own .tsx/.ts/.jsx/.js file outside node_modules that is not the entry (else the entry); "" edits nothing (only plugin.json's version changes)`)
	fresh := flag.Bool("new", false, "push every version after the first as a new plugin id (<id>.nN): nothing the server cached from earlier pushes applies, as for a plugin pushed for the first time to a running server (-edit is then ignored)")
	maps := flag.Bool("maps", false, "also time the source maps a push leaves for after its answer: each pending map (web_map, mobile_map) is requested right after the answer, and the time until it answers 200 reported; with -new every version is edited too, so that its maps are its own")
	flag.Parse()
	if *name == "" {
		*name = *dir
	}
	if *fresh && !*maps {
		*edit = ""
	}
	if err := run(*bin, *dir, *n, *name, *gap, *edit, *fresh, *maps); err != nil {
		fmt.Fprintln(os.Stderr, "push bench:", err)
		os.Exit(1)
	}
}

func run(bin, dir string, n int, name string, gap time.Duration, edit string, fresh, maps bool) error {
	pkg, err := pluginpkg.ReadDir(dir, pluginpkg.Limits{}, slots.Known)
	if err != nil {
		return err
	}
	if edit == "auto" {
		edit = editable(pkg)
	}
	if _, ok := pkg.Files[edit]; edit != "" && !ok {
		return fmt.Errorf("-edit %s: no such file in the package", edit)
	}
	archives := make([][]byte, n)
	for i := range archives {
		var m map[string]any
		json.Unmarshal(pkg.Files["plugin.json"], &m)
		m["version"] = fmt.Sprintf("9.0.%d", i)
		if fresh && i > 0 {
			m["id"] = fmt.Sprintf("%s.n%d", m["id"], i)
		}
		files := map[string][]byte{}
		for k, v := range pkg.Files {
			files[k] = v
		}
		files["plugin.json"], _ = json.Marshal(m)
		if edit != "" && i > 0 {
			// A statement with an effect, so the bundle changes too.
			target := "globalThis"
			if strings.HasPrefix(path.Ext(edit), ".ts") {
				target = "(globalThis as any)"
			}
			files[edit] = append(append([]byte(nil), pkg.Files[edit]...),
				fmt.Sprintf("\n;%s.__mmtoolkitBenchEdit = %d;\n", target, i)...)
		}
		var buf bytes.Buffer
		if err := pluginpkg.WriteArchive(&buf, files); err != nil {
			return err
		}
		archives[i] = buf.Bytes()
	}

	srv, err := benchserver.Start(bin)
	if err != nil {
		return err
	}
	defer srv.Stop()
	url := srv.URL
	token, err := srv.Login("dev")
	if err != nil {
		return err
	}

	var total, build, esb []float64
	mapTimes := map[string][]float64{} // by bundle kind, ms after the answer
	var first string
	for i, a := range archives {
		time.Sleep(gap)
		req, _ := http.NewRequest("POST", url+"/api/v1/plugins", bytes.NewReader(a))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/gzip")
		t0 := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		var res struct {
			BuildMS   float64 `json:"build_ms"`
			EsbuildMS float64 `json:"esbuild_ms"`
			Bundles   map[string]struct {
				URL     string
				Pending bool
			}
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		answered := time.Now()
		if resp.StatusCode != 201 {
			return fmt.Errorf("push %d: %d %s", i, resp.StatusCode, body)
		}
		json.Unmarshal(body, &res)
		// Servable: the bundle answers.
		b, err := http.Get(url + res.Bundles["web"].URL)
		if err != nil || b.StatusCode != 200 {
			return fmt.Errorf("bundle of push %d not servable: %v", i, err)
		}
		io.Copy(io.Discard, b.Body)
		b.Body.Close()
		d := float64(time.Since(t0).Microseconds()) / 1000
		if maps {
			// The maps are requested at once, as devtools opened on the
			// page do; the server holds each request until its map is
			// built (up to 30 s).
			var wg sync.WaitGroup
			var mu sync.Mutex
			var failed error
			for _, kind := range []string{"web_map", "mobile_map"} {
				b, ok := res.Bundles[kind]
				if !ok || !b.Pending {
					continue
				}
				wg.Go(func() {
					r, err := http.Get(url + b.URL)
					if err == nil {
						io.Copy(io.Discard, r.Body)
						r.Body.Close()
						if r.StatusCode != 200 {
							err = fmt.Errorf("%s: %d", kind, r.StatusCode)
						}
					}
					mu.Lock()
					defer mu.Unlock()
					if err != nil {
						failed = fmt.Errorf("push %d: %w", i, err)
						return
					}
					mapTimes[kind] = append(mapTimes[kind], float64(time.Since(answered).Microseconds())/1000)
				})
			}
			wg.Wait()
			if failed != nil {
				return failed
			}
		}
		if i == 0 {
			first = fmt.Sprintf("first_push=%.1fms first_build=%.1fms", d, res.BuildMS)
			continue
		}
		total = append(total, d)
		build = append(build, res.BuildMS)
		esb = append(esb, res.EsbuildMS)
	}
	what := "version"
	if edit != "" {
		what = edit
	}
	label := "repush_to_servable_median"
	if fresh {
		label = "new_plugin_push_median"
		if edit == "" {
			what = "none"
		}
	}
	var mapLine string
	for _, kind := range []string{"web_map", "mobile_map"} {
		if v := mapTimes[kind]; len(v) > 0 {
			mapLine += fmt.Sprintf(" %s_after_answer_median=%.1fms (n=%d, max %.1fms)", kind, median(v), len(v), pct(v, 1))
		}
	}
	fmt.Printf("push: plugin=%s archive=%dKB n=%d gap=%v edit=%s %s %s=%.1fms p90=%.1fms server_build_median=%.1fms esbuild_median=%.1fms%s%s\n",
		name, len(archives[0])>>10, n, gap, what, first, label, median(total), pct(total, 0.9), median(build), median(esb), mapLine, memory(srv.Pid))
	return nil
}

// memory reports the server's resident memory after the pushes and its
// peak (Linux; nothing elsewhere): what compiling, and the contexts the
// server keeps for re-pushes, cost.
func memory(pid int) string {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return ""
	}
	var rss, peak int
	for _, line := range strings.Split(string(status), "\n") {
		fmt.Sscanf(line, "VmRSS: %d kB", &rss)
		fmt.Sscanf(line, "VmHWM: %d kB", &peak)
	}
	return fmt.Sprintf(" server_rss=%dMB peak_rss=%dMB", rss>>10, peak>>10)
}

// editable picks the source file the re-pushes edit: the plugin's first
// own script that is not the web entry, else the entry.
func editable(pkg *pluginpkg.Package) string {
	entry := ""
	if pkg.Manifest.Webapp != nil {
		entry = pkg.Manifest.Webapp.Entry
	}
	var names []string
	for f := range pkg.Files {
		names = append(names, f)
	}
	sort.Strings(names)
	for _, f := range names {
		if strings.Contains("/"+f, "/node_modules/") || f == entry {
			continue
		}
		switch path.Ext(f) {
		case ".tsx", ".ts", ".jsx", ".js":
			if strings.HasPrefix(f, path.Dir(entry)+"/") {
				return f
			}
		}
	}
	return entry
}

func median(v []float64) float64 { return pct(v, 0.5) }

func pct(v []float64, p float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[min(len(s)-1, int(p*float64(len(s))))]
}
