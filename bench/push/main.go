// Command push measures push-to-servable: the time from sending a plugin
// package to the server until its new version's bundle can be fetched, for
// a plugin directory, over N distinct versions, against a running
// `mmtoolkit serve` it starts itself.
//
//	go run ./bench/push -bin bin/mmtoolkit -plugin DIR -n 20
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
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
	flag.Parse()
	if *name == "" {
		*name = *dir
	}
	if err := run(*bin, *dir, *n, *name, *gap); err != nil {
		fmt.Fprintln(os.Stderr, "push bench:", err)
		os.Exit(1)
	}
}

func run(bin, dir string, n int, name string, gap time.Duration) error {
	pkg, err := pluginpkg.ReadDir(dir, pluginpkg.Limits{}, slots.Known)
	if err != nil {
		return err
	}
	archives := make([][]byte, n)
	for i := range archives {
		var m map[string]any
		json.Unmarshal(pkg.Files["plugin.json"], &m)
		m["version"] = fmt.Sprintf("9.0.%d", i)
		files := map[string][]byte{}
		for k, v := range pkg.Files {
			files[k] = v
		}
		files["plugin.json"], _ = json.Marshal(m)
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
			Bundles   map[string]struct{ URL string }
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
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
		total = append(total, float64(time.Since(t0).Microseconds())/1000)
		build = append(build, res.BuildMS)
		esb = append(esb, res.EsbuildMS)
	}
	fmt.Printf("push: plugin=%s archive=%dKB n=%d gap=%v push_to_servable_median=%.1fms p90=%.1fms server_build_median=%.1fms esbuild_median=%.1fms\n",
		name, len(archives[0])>>10, n, gap, median(total), pct(total, 0.9), median(build), median(esb))
	return nil
}

func median(v []float64) float64 { return pct(v, 0.5) }

func pct(v []float64, p float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[min(len(s)-1, int(p*float64(len(s))))]
}
