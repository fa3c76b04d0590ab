// Command plugins measures the reference plugins (plugins/video, map,
// appcenter) as issue #5 asks: source lines (web, mobile, shared; their own
// code, not node_modules or message files), the web bundle raw and gzip'd,
// the mobile bundle raw and gzip'd, and the median compile time of each
// target (bundler.Build, what a push spends compiling). Hermes bytecode
// sizes and hermesc times per plugin: `go run ./bench/mobile plugins/video
// plugins/map plugins/appcenter`.
//
//	go run ./bench/plugins [-n 9]
//
// Prints a Markdown table, then one summary line per plugin:
//
//	plugin mmtoolkit.map src_web=.. src_mobile=.. src_shared=.. web=.. web_gzip=.. web_ms=.. mobile=.. mobile_gzip=.. mobile_ms=..
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/mmtoolkit/mmtoolkit/bench/internal/measure"
	"github.com/mmtoolkit/mmtoolkit/bundler"
	"github.com/mmtoolkit/mmtoolkit/plugins"
)

func main() {
	n := flag.Int("n", 9, "compiles per target (the median is reported)")
	flag.Parse()
	if err := run(*n); err != nil {
		fmt.Fprintln(os.Stderr, "plugins bench:", err)
		os.Exit(1)
	}
}

func run(n int) error {
	pkgs, err := plugins.Packages()
	if err != nil {
		return err
	}
	fmt.Printf("medians of %d compiles; gzip level 9 (what the server stores)\n\n", n)
	fmt.Println("| plugin | source lines web / mobile / shared | web bundle | web gzip | web compile | mobile bundle | mobile gzip | mobile compile |")
	fmt.Println("|---|---|---:|---:|---:|---:|---:|---:|")
	var lines []string
	for _, pkg := range pkgs {
		src := map[string]int{}
		for name, data := range pkg.Files {
			part, _, _ := strings.Cut(name, "/")
			if strings.Contains(name, "node_modules/") || !isSource(name) || strings.Contains(name, "/i18n/") {
				continue
			}
			src[part] += bytes.Count(data, []byte("\n"))
		}
		var web, mob *bundler.Result
		webT := measure.Median(n, func() error { web, err = bundler.Build(pkg, bundler.Web); return err })
		if err != nil {
			return err
		}
		mobT := measure.Median(n, func() error { mob, err = bundler.Build(pkg, bundler.Mobile); return err })
		if err != nil {
			return err
		}
		id := pkg.Manifest.ID
		fmt.Printf("| %s | %d / %d / %d | %s | %s | %s | %s | %s | %s |\n", id, src["webapp"], src["mobile"], src["shared"],
			measure.KB(len(web.JS)), measure.KB(measure.GzipLen(web.JS)), msf(webT), measure.KB(len(mob.JS)), measure.KB(measure.GzipLen(mob.JS)), msf(mobT))
		lines = append(lines, fmt.Sprintf("plugin %s src_web=%d src_mobile=%d src_shared=%d web=%d web_gzip=%d web_ms=%.1f mobile=%d mobile_gzip=%d mobile_ms=%.1f",
			id, src["webapp"], src["mobile"], src["shared"], len(web.JS), measure.GzipLen(web.JS), measure.MS(webT), len(mob.JS), measure.GzipLen(mob.JS), measure.MS(mobT)))
	}
	fmt.Println()
	for _, l := range lines {
		fmt.Println(l)
	}
	return nil
}

func isSource(name string) bool {
	for _, ext := range []string{".ts", ".tsx", ".js", ".jsx", ".css"} {
		if strings.HasSuffix(name, ext) {
			return true
		}
	}
	return false
}

func msf(d time.Duration) string { return fmt.Sprintf("%.1f ms", measure.MS(d)) }
