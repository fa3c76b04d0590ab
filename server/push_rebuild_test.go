package server_test

import (
	"bytes"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/mmtoolkit/mmtoolkit/bundler"
	"github.com/mmtoolkit/mmtoolkit/bundler/pluginpkg"
	"github.com/mmtoolkit/mmtoolkit/server"
	"github.com/mmtoolkit/mmtoolkit/slots"
)

// coldBundles builds files as a fresh process would, without any cache.
func coldBundles(t *testing.T, files map[string]string) (web, mobile *bundler.Result) {
	t.Helper()
	pkg, err := pluginpkg.ReadArchive(bytes.NewReader(archive(t, files)), pluginpkg.Limits{}, slots.Known)
	if err != nil {
		t.Fatal(err)
	}
	if web, err = bundler.Build(pkg, bundler.Web); err != nil {
		t.Fatal(err)
	}
	if mobile, err = bundler.Build(pkg, bundler.Mobile); err != nil {
		t.Fatal(err)
	}
	return web, mobile
}

// pushedBundle fetches one bundle of a push answer.
func (e *env) pushedBundle(t *testing.T, push response, kind string) []byte {
	t.Helper()
	b, ok := push.json(t)["bundles"].(map[string]any)[kind].(map[string]any)
	if !ok {
		t.Fatalf("no %s bundle in %s", kind, push.body)
	}
	got := e.do("", "GET", b["url"].(string), "", nil)
	if got.status != http.StatusOK {
		t.Fatalf("GET %s: %d %s", b["url"], got.status, got.body)
	}
	return got.body
}

// The developer loop: the same plugin pushed again and again with one
// file edited, added or broken each time. The server builds re-pushes
// with the contexts it kept (bundler.Cache); every stored bundle and map
// must be what a cold build of that push gives.
func TestRepushServesWhatAColdBuildGives(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{})
	files := helloPlugin("com.example.repush", "1.0.0")
	files["webapp/label.ts"] = "export const label = 'v0';\n"
	files["webapp/index.tsx"] = "import {label} from './label';\n" + files["webapp/index.tsx"] + "\nconsole.log(label);\n"
	steps := []struct {
		name string
		edit func(map[string]string)
	}{
		{"first push", func(map[string]string) {}},
		{"module edited", func(f map[string]string) { f["webapp/label.ts"] = "export const label = 'v1';\n" }},
		{"stylesheet edited", func(f map[string]string) { f["webapp/style.css"] = ".hello { color: green; }" }},
		{"module added", func(f map[string]string) {
			f["webapp/more.ts"] = "export const more = 42;\n"
			f["webapp/label.ts"] = "import {more} from './more';\nexport const label = 'v2' + more;\n"
		}},
		{"mobile edited", func(f map[string]string) { f["mobile/index.tsx"] += "\nexport const edited = true;\n" }},
	}
	for i, step := range steps {
		step.edit(files)
		files["plugin.json"] = replaceVersion(files["plugin.json"], fmt.Sprintf("1.0.%d", i))
		res := e.push("dev", files)
		if res.status != http.StatusCreated {
			t.Fatalf("%s: %d %s", step.name, res.status, res.body)
		}
		web, mobile := coldBundles(t, files)
		for _, c := range []struct {
			kind string
			want []byte
		}{{"web", web.JS}, {"web_map", web.SourceMap}, {"mobile", mobile.JS}, {"mobile_map", mobile.SourceMap}} {
			if got := e.pushedBundle(t, res, c.kind); !bytes.Equal(got, c.want) {
				t.Errorf("%s: the served %s differs from a cold build of the same package", step.name, c.kind)
			}
		}
	}

	// A broken edit is a compile error, and the fix after it builds.
	files["webapp/label.ts"] = "export const label = ;\n"
	files["plugin.json"] = replaceVersion(files["plugin.json"], "1.1.0")
	if res := e.push("dev", files); res.status != http.StatusUnprocessableEntity {
		t.Fatalf("broken edit: %d %s", res.status, res.body)
	}
	files["webapp/label.ts"] = "export const label = 'fixed';\n"
	res := e.push("dev", files)
	if res.status != http.StatusCreated {
		t.Fatalf("fixed edit: %d %s", res.status, res.body)
	}
	web, _ := coldBundles(t, files)
	if got := e.pushedBundle(t, res, "web"); !bytes.Equal(got, web.JS) {
		t.Error("after a compile error, the fixed push's bundle differs from a cold build")
	}
}

// Pushes of several versions of one plugin at once each get the bundle
// of their own sources (go test -race).
func TestConcurrentRepushes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{MaxCompiles: 4})
	base := helloPlugin("com.example.burst", "1.0.0")
	var wg sync.WaitGroup
	results := make([]response, 6)
	versions := make([]map[string]string, 6)
	for i := range versions {
		f := map[string]string{}
		for k, v := range base {
			f[k] = v
		}
		f["plugin.json"] = replaceVersion(f["plugin.json"], fmt.Sprintf("2.0.%d", i))
		f["webapp/style.css"] = fmt.Sprintf(".hello { z-index: %d; }", i)
		versions[i] = f
	}
	if first := e.push("dev", versions[0]); first.status != http.StatusCreated {
		t.Fatalf("first push: %d %s", first.status, first.body)
	}
	for i := 1; i < len(versions); i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = e.push("dev", versions[i])
		}()
	}
	wg.Wait()
	for i := 1; i < len(versions); i++ {
		if results[i].status != http.StatusCreated {
			t.Fatalf("push %d: %d %s", i, results[i].status, results[i].body)
		}
		web, _ := coldBundles(t, versions[i])
		if got := e.pushedBundle(t, results[i], "web"); !bytes.Equal(got, web.JS) {
			t.Errorf("push %d: the served bundle differs from a cold build of its package", i)
		}
	}
}

func replaceVersion(manifest, version string) string {
	i := bytes.Index([]byte(manifest), []byte(`"version":"`))
	if i < 0 {
		panic("no version in " + manifest)
	}
	j := i + len(`"version":"`)
	k := j + bytes.IndexByte([]byte(manifest[j:]), '"')
	return manifest[:j] + version + manifest[k:]
}
