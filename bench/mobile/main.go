// Command mobile measures what a React Native app downloads and what the
// server spends per mobile plugin: the mobile JS bundle (esbuild) and its
// Hermes bytecode (hermesc -O, what the server stores, and -O0 for
// comparison), raw and gzip'd, with the median compile time of each.
//
//	go run ./bench/mobile [-n 5] [-hermesc PATH] [DIR ...]
//
// Without DIRs it measures the fixture plugin of the host library's tests
// and a generated plugin of ~60 React Native components (about the size of
// a plugin with a few screens). The manifest's signing cost is measured by
// `go test -run '^$' -bench MobileManifest ./server/`.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mmtoolkit/mmtoolkit/bench/internal/measure"
	"github.com/mmtoolkit/mmtoolkit/bundler"
	"github.com/mmtoolkit/mmtoolkit/bundler/pluginpkg"
	"github.com/mmtoolkit/mmtoolkit/slots"
)

func main() {
	n := flag.Int("n", 5, "compiles per measurement (the median is reported)")
	hermesc := flag.String("hermesc", os.Getenv("MMTOOLKIT_HERMESC"), "hermesc (default: the project's pinned install)")
	flag.Parse()
	if err := run(*n, *hermesc, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "mobile bench:", err)
		os.Exit(1)
	}
}

func run(n int, hermescPath string, dirs []string) error {
	path, err := bundler.FindHermesc(hermescPath)
	if err != nil {
		return err
	}
	h, err := bundler.NewHermes(context.Background(), path)
	if err != nil {
		return err
	}
	if len(dirs) == 0 {
		gen, err := os.MkdirTemp("", "mmtoolkit-mobile-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(gen)
		if err := writeGenerated(gen, 60); err != nil {
			return err
		}
		dirs = []string{"mobile/test/fixtures/hello-1.0.0", gen}
	}
	fmt.Printf("hermesc %s, bytecode %d; medians of %d runs\n\n", h.Release, h.Version, n)
	fmt.Println("| plugin | JS | JS gzip | esbuild | HBC -O | HBC -O gzip | hermesc -O | HBC -O0 | hermesc -O0 |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|")
	for _, dir := range dirs {
		pkg, err := pluginpkg.ReadDir(dir, pluginpkg.Limits{}, slots.Known)
		if err != nil {
			return err
		}
		var res *bundler.Result
		esb := measure.Median(n, func() error { res, err = bundler.Build(pkg, bundler.Mobile); return err })
		if err != nil {
			return err
		}
		var opt, noopt *bundler.Bytecode
		h.Optimize = true
		tO := measure.Median(n, func() error { opt, err = h.Compile(context.Background(), res.JS); return err })
		if err != nil {
			return err
		}
		h.Optimize = false
		tO0 := measure.Median(n, func() error { noopt, err = h.Compile(context.Background(), res.JS); return err })
		if err != nil {
			return err
		}
		name := pkg.Manifest.ID
		fmt.Printf("| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", name,
			measure.KB(len(res.JS)), measure.KB(measure.GzipLen(res.JS)), msf(esb),
			measure.KB(len(opt.HBC)), measure.KB(measure.GzipLen(opt.HBC)), msf(tO), measure.KB(len(noopt.HBC)), msf(tO0))
		fmt.Fprintf(os.Stderr, "mobile %s js=%d js_gzip=%d hbc=%d hbc_gzip=%d esbuild_ms=%.1f hermesc_O_ms=%.1f hermesc_O0_ms=%.1f\n",
			name, len(res.JS), measure.GzipLen(res.JS), len(opt.HBC), measure.GzipLen(opt.HBC), measure.MS(esb), measure.MS(tO), measure.MS(tO0))
	}
	return nil
}

func msf(d time.Duration) string { return fmt.Sprintf("%.0f ms", measure.MS(d)) }

// writeGenerated writes a React Native plugin of n components, each a
// screen-sized function with state, styles, a list and handlers.
func writeGenerated(dir string, n int) error {
	files := map[string]string{
		"plugin.json": `{"id":"bench.generated","name":"Generated","version":"1.0.0",
			"mobile":{"entry":"mobile/index.tsx"},"slots":[{"slot":"app_center"}]}`,
	}
	var idx strings.Builder
	idx.WriteString("import {View} from 'react-native';\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&idx, "import C%d from './c%d';\n", i, i)
		files[fmt.Sprintf("mobile/c%d.tsx", i)] = component(i)
	}
	idx.WriteString("const All = (props: any) => <View>")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&idx, "<C%d {...props} />", i)
	}
	idx.WriteString("</View>;\nexport default {initialize(r: any) { r.registerAppCenterComponent(All, 'All'); }};\n")
	files["mobile/index.tsx"] = idx.String()
	for name, src := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func component(i int) string {
	var b strings.Builder
	fmt.Fprintf(&b, `import {useMemo, useState, useCallback} from 'react';
import {FlatList, Pressable, StyleSheet, Text, TextInput, View} from 'react-native';

type Item%[1]d = {id: string; title: string; done: boolean; tags: string[]; score: number};

const styles = StyleSheet.create({
  root: {padding: 12, borderRadius: 8, backgroundColor: '#fff', marginBottom: 8},
  title: {fontSize: 16, fontWeight: '600', color: '#1d1c1d'},
  row: {flexDirection: 'row', alignItems: 'center', paddingVertical: 6},
  done: {textDecorationLine: 'line-through', opacity: 0.6},
  input: {borderWidth: 1, borderColor: '#ddd', borderRadius: 4, padding: 6},
});

function score%[1]d(items: Item%[1]d[], query: string): Item%[1]d[] {
  const q = query.trim().toLowerCase();
  return items
    .map((it) => ({...it, score: (it.title.toLowerCase().includes(q) ? 10 : 0) + it.tags.filter((t) => t.startsWith(q)).length}))
    .filter((it) => q === '' || it.score > 0)
    .sort((a, b) => b.score - a.score || a.title.localeCompare(b.title));
}
`, i)
	for f := 0; f < 6; f++ {
		fmt.Fprintf(&b, `
export function format%[1]d_%[2]d(value: number, unit = 'items'): string {
  if (value > 1e6) return (value / 1e6).toFixed(1) + 'M ' + unit;
  if (value > 1e3) return (value / 1e3).toFixed(1) + 'k ' + unit;
  return value + ' ' + unit + (value === 1 ? '' : 's') + ' #%[2]d';
}
`, i, f)
	}
	fmt.Fprintf(&b, `
export default function Screen%[1]d({team}: {team?: {name?: string}}) {
  const [items, setItems] = useState<Item%[1]d[]>(() =>
    Array.from({length: 20}, (_, k) => ({id: '%[1]d-' + k, title: 'Task ' + k + ' of screen %[1]d', done: k %% 3 === 0, tags: ['a' + k, 'b' + (k %% 5)], score: 0})));
  const [query, setQuery] = useState('');
  const shown = useMemo(() => score%[1]d(items, query), [items, query]);
  const toggle = useCallback((id: string) => setItems((xs) => xs.map((x) => (x.id === id ? {...x, done: !x.done} : x))), []);
  return (
    <View style={styles.root}>
      <Text style={styles.title}>Screen %[1]d for {team?.name ?? 'a team'}: {format%[1]d_0(shown.length)}</Text>
      <TextInput style={styles.input} value={query} onChangeText={setQuery} placeholder="Filter" />
      <FlatList
        data={shown}
        keyExtractor={(x) => x.id}
        renderItem={({item}) => (
          <Pressable style={styles.row} onPress={() => toggle(item.id)}>
            <Text style={item.done ? styles.done : undefined}>{item.title} ({item.tags.join(', ')})</Text>
          </Pressable>
        )}
      />
    </View>
  );
}
`, i)
	return b.String()
}
