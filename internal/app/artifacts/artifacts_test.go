package artifacts_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/mmtoolkit/mmtoolkit/internal/app/artifacts"
	"github.com/mmtoolkit/mmtoolkit/internal/app/changes"
	"github.com/mmtoolkit/mmtoolkit/registry"
	"github.com/mmtoolkit/mmtoolkit/registry/registrytest"
)

const typeJS = "text/javascript; charset=utf-8"

// artifact is a registry.Artifact of data with content type ct.
func artifact(data, ct string) registry.Artifact {
	b := []byte(data)
	return registry.Artifact{SHA256: registrytest.SHA256(b), Size: int64(len(b)), ContentType: ct}
}

func version(id, v string, arts map[string]registry.Artifact) *registry.Version {
	return &registry.Version{PluginID: id, Version: v, Artifacts: arts}
}

func TestLookups(t *testing.T) {
	js := artifact("js", typeJS)
	css := artifact("css", "text/css; charset=utf-8")
	m := artifact("map", "application/json")
	m.Key = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	x := artifacts.New()
	x.AddVersion(version("p", "1.0.0", map[string]registry.Artifact{
		registry.WebJS: js, registry.WebMap: m, "dist/app.css": css,
	}))

	tests := []struct {
		name string
		get  func() (string, bool)
		want string // "" for not found
	}{
		{"by sha", func() (string, bool) { a, ok := x.Artifact(js.SHA256); return a.SHA256, ok }, js.SHA256},
		{"unknown sha", func() (string, bool) { a, ok := x.Artifact(artifact("other", typeJS).SHA256); return a.SHA256, ok }, ""},
		{"by prefix", func() (string, bool) { return x.ByPrefix(js.SHA256[:16]) }, js.SHA256},
		{"prefix of a non-JS artifact", func() (string, bool) { return x.ByPrefix(css.SHA256[:16]) }, ""},
		{"prefix of another length", func() (string, bool) { return x.ByPrefix(js.SHA256[:15]) }, ""},
		{"source map by key", func() (string, bool) { return x.SourceMapNamed(m.Key) }, m.SHA256},
		{"source map by its sha is not a key", func() (string, bool) { return x.SourceMapNamed(m.SHA256) }, ""},
		{"path file", func() (string, bool) { a, ok := x.PathFile("p", "dist/app.css"); return a.SHA256, ok }, css.SHA256},
		{"path file of another plugin", func() (string, bool) { a, ok := x.PathFile("q", "dist/app.css"); return a.SHA256, ok }, ""},
		{"a bundle is no path file", func() (string, bool) { a, ok := x.PathFile("p", registry.WebJS); return a.SHA256, ok }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := tt.get()
			if ok != (tt.want != "") || got != tt.want {
				t.Fatalf("got %q, %v; want %q", got, ok, tt.want)
			}
		})
	}
	if n := x.Len(); n != 3 {
		t.Fatalf("Len = %d, want 3", n)
	}
}

func TestPathFilesKeepTheHighestVersion(t *testing.T) {
	x := artifacts.New()
	files := map[string]registry.Artifact{}
	// Added out of order: 1.10.0 is higher than 1.9.0 (semver, not text).
	for _, v := range []string{"1.9.0", "1.10.0", "1.2.0", "1.10.0-beta.1"} {
		files[v] = artifact("chunk of "+v, typeJS)
		x.AddVersion(version("p", v, map[string]registry.Artifact{"public/chunk.js": files[v]}))
	}
	a, ok := x.PathFile("p", "public/chunk.js")
	if !ok || a.SHA256 != files["1.10.0"].SHA256 {
		t.Fatalf("path file is %q, want 1.10.0's %q", a.SHA256, files["1.10.0"].SHA256)
	}
	// A version without the file leaves the older one's in place.
	x.AddVersion(version("p", "2.0.0", map[string]registry.Artifact{registry.WebJS: artifact("2", typeJS)}))
	if a, _ := x.PathFile("p", "public/chunk.js"); a.SHA256 != files["1.10.0"].SHA256 {
		t.Fatalf("a version without the file replaced it")
	}
}

func TestForgetAfterPrune(t *testing.T) {
	keep := artifact("kept", typeJS)
	gone := artifact("pruned", typeJS)
	goneMap := artifact("pruned map", "application/json")
	goneMap.Key = "key-of-the-pruned-map"
	goneFile := artifact("pruned file", "image/png")
	x := artifacts.New()
	x.AddVersion(version("p", "1.0.0", map[string]registry.Artifact{registry.WebJS: keep, "public/a.png": artifact("kept file", "image/png")}))
	x.AddVersion(version("p", "1.1.0-dev.1", map[string]registry.Artifact{
		registry.WebJS: gone, registry.WebMap: goneMap, "public/b.png": goneFile,
	}))

	x.Forget([]string{gone.SHA256, goneMap.SHA256, goneFile.SHA256})

	if _, ok := x.Artifact(gone.SHA256); ok {
		t.Error("pruned bundle still indexed by sha")
	}
	if _, ok := x.ByPrefix(gone.SHA256[:16]); ok {
		t.Error("pruned bundle still indexed by prefix")
	}
	if _, ok := x.SourceMapNamed(goneMap.Key); ok {
		t.Error("pruned source map still indexed by key")
	}
	if _, ok := x.PathFile("p", "public/b.png"); ok {
		t.Error("pruned path file still indexed")
	}
	if _, ok := x.Artifact(keep.SHA256); !ok {
		t.Error("a kept bundle was forgotten")
	}
	if sha, _ := x.ByPrefix(keep.SHA256[:16]); sha != keep.SHA256 {
		t.Error("a kept bundle's prefix was forgotten")
	}
	if _, ok := x.PathFile("p", "public/a.png"); !ok {
		t.Error("a kept path file was forgotten")
	}
}

func TestForgetKeepsAPrefixSharedWithAnother(t *testing.T) {
	// Two SHA-256s with the same first 16 digits cannot be made on
	// purpose; the index holds the last one learnt, and forgetting the
	// other must not drop it.
	x := artifacts.New()
	a := artifact("a", typeJS)
	x.AddVersion(version("p", "1.0.0", map[string]registry.Artifact{registry.WebJS: a}))
	other := a.SHA256[:16] + "ffffffffffffffffffffffffffffffffffffffffffffffff"
	x.Forget([]string{other})
	if sha, ok := x.ByPrefix(a.SHA256[:16]); !ok || sha != a.SHA256 {
		t.Fatalf("forgetting another sha with the same prefix dropped %s", a.SHA256)
	}
}

func TestEncodings(t *testing.T) {
	js := artifact("js", typeJS)
	x := artifacts.New()
	x.AddEncodings(js.SHA256, map[string]registry.Encoded{"gzip": {SHA256: "g", Size: 1}})
	if _, ok := x.Artifact(js.SHA256); ok {
		t.Fatal("variants of an unknown blob made it known")
	}
	x.AddVersion(version("p", "1.0.0", map[string]registry.Artifact{registry.WebJS: js}))
	before, _ := x.Artifact(js.SHA256)
	x.AddEncodings(js.SHA256, map[string]registry.Encoded{"gzip": {SHA256: "g", Size: 1}})
	x.AddEncodings(js.SHA256, map[string]registry.Encoded{"br": {SHA256: "b", Size: 2}})
	a, _ := x.Artifact(js.SHA256)
	if want := map[string]string{"gzip": "g", "br": "b"}; !maps.Equal(a.Encodings, want) {
		t.Fatalf("encodings %v, want %v", a.Encodings, want)
	}
	if want := map[string]int64{"gzip": 1, "br": 2}; !maps.Equal(a.EncodedSizes, want) {
		t.Fatalf("encoded sizes %v, want %v", a.EncodedSizes, want)
	}
	if len(before.Encodings) != 0 {
		t.Fatal("a value returned before the variants was changed (copy-on-write)")
	}
	// The same blob in a later version, stored without variants, keeps
	// the ones known.
	x.AddVersion(version("p", "1.0.1", map[string]registry.Artifact{registry.WebJS: js}))
	if a, _ := x.Artifact(js.SHA256); len(a.Encodings) != 2 {
		t.Fatalf("a re-used blob lost its variants: %v", a.Encodings)
	}
	if got := x.BlobSizes(); !maps.Equal(got, map[string]int64{js.SHA256: js.Size, "g": 1, "b": 2}) {
		t.Fatalf("blob sizes %v", got)
	}
	if todo := x.Uncompressed(0); len(todo) != 0 {
		t.Fatalf("Uncompressed lists a compressed blob: %v", todo)
	}
}

func TestUncompressed(t *testing.T) {
	small, big, done := artifact("s", typeJS), artifact("a bigger bundle", typeJS), artifact("a compressed bundle", typeJS)
	x := artifacts.New()
	x.AddVersion(version("p", "1.0.0", map[string]registry.Artifact{"a": small, "b": big, "c": done}))
	x.AddEncodings(done.SHA256, map[string]registry.Encoded{"gzip": {SHA256: "g", Size: 1}})
	todo := x.Uncompressed(2)
	if len(todo) != 1 || todo[0].SHA256 != big.SHA256 {
		t.Fatalf("Uncompressed(2) = %v, want only %s", todo, big.SHA256)
	}
}

func TestBytecode(t *testing.T) {
	hbc := artifact("hbc", "application/vnd.facebook.hermes-bytecode")
	x := artifacts.New()
	x.AddBytecode(registry.Bytecode{Source: "js", Artifact: hbc, Error: "hermesc rejected it"})
	if _, ok := x.Artifact(hbc.SHA256); ok {
		t.Fatal("a failed compile was indexed")
	}
	x.AddBytecode(registry.Bytecode{Source: "js", Artifact: hbc})
	if _, ok := x.Artifact(hbc.SHA256); !ok {
		t.Fatal("bytecode not indexed")
	}
}

func TestSubscribe(t *testing.T) {
	ctx := context.Background()
	var f changes.Feed
	x := artifacts.New()
	x.Subscribe(&f)

	js := artifact("js", typeJS)
	f.Publish(ctx, changes.VersionStored{Version: version("p", "1.0.0", map[string]registry.Artifact{registry.WebJS: js})})
	if _, ok := x.Artifact(js.SHA256); !ok {
		t.Fatal("VersionStored: not indexed")
	}
	m := artifact("map", "application/json")
	m.Key = "the-key"
	f.Publish(ctx, changes.SourceMapStored{Artifact: m})
	if sha, _ := x.SourceMapNamed("the-key"); sha != m.SHA256 {
		t.Fatal("SourceMapStored: not indexed by key")
	}
	f.Publish(ctx, changes.EncodingsStored{SHA: js.SHA256, Encodings: map[string]registry.Encoded{"br": {SHA256: "b", Size: 1}}})
	if a, _ := x.Artifact(js.SHA256); a.Encodings["br"] != "b" {
		t.Fatal("EncodingsStored: not recorded")
	}
	failed, hbc := artifact("failed", "application/vnd.facebook.hermes-bytecode"), artifact("hbc", "application/vnd.facebook.hermes-bytecode")
	f.Publish(ctx, changes.BytecodeStored{Bytecode: registry.Bytecode{Artifact: failed, Error: "rejected"}})
	f.Publish(ctx, changes.BytecodeStored{Bytecode: registry.Bytecode{Artifact: hbc}})
	if _, ok := x.Artifact(failed.SHA256); ok {
		t.Fatal("BytecodeStored: a failed compile was indexed")
	}
	if _, ok := x.Artifact(hbc.SHA256); !ok {
		t.Fatal("BytecodeStored: not indexed")
	}
	certified := artifact("certified", typeJS)
	f.Publish(ctx, changes.VersionCertified{Version: version("p", "1.0.0", map[string]registry.Artifact{registry.WebJS: certified})})
	if _, ok := x.Artifact(certified.SHA256); ok {
		t.Fatal("VersionCertified changed the index: a certification adds no artifact")
	}
	f.Publish(ctx, changes.BlobsPruned{SHAs: []string{js.SHA256, m.SHA256}})
	if _, ok := x.Artifact(js.SHA256); ok {
		t.Fatal("BlobsPruned: still indexed")
	}
	if _, ok := x.SourceMapNamed("the-key"); ok {
		t.Fatal("BlobsPruned: map key still indexed")
	}
	if got := f.Subscribers(); !slices.Equal(got, []string{"artifact index"}) {
		t.Fatalf("subscribers %q", got)
	}
}

func TestLoad(t *testing.T) {
	ctx := context.Background()
	store := registrytest.Open(t)
	by := registry.Pusher{UserID: "dev"}
	web := registrytest.Push(t, store, by, "web", "1.0.0")
	mob := registrytest.Push(t, store, by, "mob", "2.0.0", []byte("web"), []byte("web map"), []byte("mobile"), []byte("mobile map"))
	mapless := registrytest.Push(t, store, by, "mob", "2.1.0", []byte("web 2"), []byte("web map 2"), []byte("mobile 2"))
	enc := map[string]registry.Encoded{"br": {SHA256: registrytest.SHA256([]byte("br")), Size: 2}}
	if err := store.PutEncodings(ctx, web.Artifacts[registry.WebJS].SHA256, enc, map[string][]byte{enc["br"].SHA256: []byte("br")}); err != nil {
		t.Fatal(err)
	}

	x := artifacts.New()
	got, err := x.Load(ctx, store)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []*registry.Version{web, mob, mapless} {
		for kind, a := range v.Artifacts {
			if _, ok := x.Artifact(a.SHA256); !ok {
				t.Errorf("%s@%s %s not indexed", v.PluginID, v.Version, kind)
			}
		}
	}
	if a, _ := x.Artifact(web.Artifacts[registry.WebJS].SHA256); a.Encodings["br"] != enc["br"].SHA256 {
		t.Errorf("stored variants not loaded: %v", a.Encodings)
	}
	wantJS := []artifacts.MobileBundle{
		{SHA256: mob.Artifacts[registry.MobileJS].SHA256, Plugin: "mob@2.0.0"},
		{SHA256: mapless.Artifacts[registry.MobileJS].SHA256, Plugin: "mob@2.1.0"},
	}
	slices.SortFunc(got.MobileJS, func(a, b artifacts.MobileBundle) int { return strings.Compare(a.Plugin, b.Plugin) })
	if !slices.Equal(got.MobileJS, wantJS) {
		t.Errorf("MobileJS %v, want %v", got.MobileJS, wantJS)
	}
	// web@1.0.0 has no web.map (registrytest's single blob), mob@2.1.0 no
	// mobile.map.
	slices.Sort(got.Mapless)
	if want := []string{"mob@2.1.0", "web@1.0.0"}; !slices.Equal(got.Mapless, want) {
		t.Errorf("Mapless %v, want %v", got.Mapless, want)
	}
}

// TestConcurrentReaders runs lookups while versions, variants and prunes
// change the index (go test -race).
func TestConcurrentReaders(t *testing.T) {
	x := artifacts.New()
	const n = 200
	arts := make([]registry.Artifact, n)
	for i := range arts {
		arts[i] = artifact(fmt.Sprint("bundle ", i), typeJS)
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for r := 0; r < 4; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				a := arts[i%n]
				if got, ok := x.Artifact(a.SHA256); ok {
					_ = got.Encodings["gzip"] // read the value returned, without the lock
					_ = len(got.EncodedSizes)
				}
				x.ByPrefix(a.SHA256[:16])
				x.SourceMapNamed(a.SHA256)
				x.PathFile("p", "public/f.js")
				if i%50 == 0 {
					x.BlobSizes()
					x.Len()
				}
			}
		}()
	}
	for i, a := range arts {
		x.AddVersion(version("p", fmt.Sprintf("1.0.%d", i), map[string]registry.Artifact{registry.WebJS: a, "public/f.js": a}))
		x.AddEncodings(a.SHA256, map[string]registry.Encoded{"gzip": {SHA256: fmt.Sprint("gz", i), Size: 1}})
		if i%10 == 9 {
			x.Forget([]string{arts[i-5].SHA256})
		}
	}
	close(stop)
	wg.Wait()
	if a, ok := x.PathFile("p", "public/f.js"); !ok || a.SHA256 != arts[n-1].SHA256 {
		t.Fatalf("path file %q, want the highest version's %q", a.SHA256, arts[n-1].SHA256)
	}
}

func BenchmarkLookup(b *testing.B) {
	x := artifacts.New()
	shas := make([]string, 1000)
	for i := range shas {
		a := artifact(fmt.Sprint("bundle ", i), typeJS)
		x.AddVersion(version("p", fmt.Sprintf("1.0.%d", i), map[string]registry.Artifact{registry.WebJS: a}))
		x.AddEncodings(a.SHA256, map[string]registry.Encoded{"gzip": {SHA256: "g", Size: 1}, "br": {SHA256: "b", Size: 1}})
		shas[i] = a.SHA256
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, ok := x.Artifact(shas[i%len(shas)]); !ok {
			b.Fatal("not found")
		}
	}
}

func TestLookupAllocatesNothing(t *testing.T) {
	x := artifacts.New()
	a := artifact("js", typeJS)
	x.AddVersion(version("p", "1.0.0", map[string]registry.Artifact{registry.WebJS: a}))
	x.AddEncodings(a.SHA256, map[string]registry.Encoded{"gzip": {SHA256: "g", Size: 1}})
	if n := testing.AllocsPerRun(100, func() { x.Artifact(a.SHA256) }); n != 0 {
		t.Fatalf("Artifact allocates %v times per lookup", n)
	}
	if n := testing.AllocsPerRun(100, func() { x.ByPrefix(a.SHA256[:16]) }); n != 0 {
		t.Fatalf("ByPrefix allocates %v times per lookup", n)
	}
}
