package precompress_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/andybalholm/brotli"

	"github.com/mmtoolkit/mmtoolkit/internal/app/changes"
	"github.com/mmtoolkit/mmtoolkit/internal/app/precompress"
	"github.com/mmtoolkit/mmtoolkit/internal/app/scheduler"
	"github.com/mmtoolkit/mmtoolkit/internal/app/scheduler/schedulertest"
	"github.com/mmtoolkit/mmtoolkit/registry"
)

// memStore is a registry's blobs and variants in memory.
type memStore struct {
	mu    sync.Mutex
	blobs map[string][]byte
	enc   map[string]map[string]registry.Encoded
	puts  int
}

func newMemStore() *memStore {
	return &memStore{blobs: map[string][]byte{}, enc: map[string]map[string]registry.Encoded{}}
}

func (m *memStore) add(b []byte) string {
	sha := sum(b)
	m.mu.Lock()
	m.blobs[sha] = b
	m.mu.Unlock()
	return sha
}

func (m *memStore) Blob(_ context.Context, sha string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.blobs[sha]
	if !ok {
		return nil, errors.New("no such blob")
	}
	return b, nil
}

func (m *memStore) PutEncodings(_ context.Context, sha string, enc map[string]registry.Encoded, blobs map[string][]byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.puts++
	m.enc[sha] = enc
	for s, b := range blobs {
		m.blobs[s] = b
	}
	return nil
}

func (m *memStore) encodings(sha string) map[string]registry.Encoded {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.enc[sha]
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// js is a JavaScript bundle that compresses well.
func js(n int) []byte {
	return []byte(strings.Repeat("export function hello(name) { return 'hello ' + name; }\n", n))
}

type env struct {
	store *memStore
	sched *scheduler.Scheduler
	feed  *changes.Feed
	c     *precompress.Compressor
	mu    sync.Mutex
	got   []changes.EncodingsStored
}

func newEnv(t *testing.T, cfg precompress.Config) *env {
	t.Helper()
	e := &env{store: newMemStore(), feed: &changes.Feed{},
		sched: scheduler.New(scheduler.Config{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})}
	t.Cleanup(e.sched.Close)
	changes.On(e.feed, "test", func(_ context.Context, c changes.EncodingsStored) {
		e.mu.Lock()
		e.got = append(e.got, c)
		e.mu.Unlock()
	})
	cfg.Store, cfg.Scheduler, cfg.Feed = e.store, e.sched, e.feed
	e.c = precompress.New(cfg)
	return e
}

func (e *env) wait(t *testing.T) {
	t.Helper()
	schedulertest.WaitIdle(t, e.sched)
}

func (e *env) published() []changes.EncodingsStored {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]changes.EncodingsStored(nil), e.got...)
}

func decode(t *testing.T, coding string, b []byte) []byte {
	t.Helper()
	var r io.Reader
	switch coding {
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		r = zr
	case "br":
		r = brotli.NewReader(bytes.NewReader(b))
	default:
		t.Fatalf("coding %q", coding)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestEnqueueStoresVariants: which blobs get which variants, each
// decoding to the blob, stored and told on the feed.
func TestEnqueueStoresVariants(t *testing.T) {
	t.Parallel()
	random := make([]byte, 4096) // incompressible: no variant saves anything
	rng := rand.NewChaCha8([32]byte{1})
	rng.Read(random)
	for _, tc := range []struct {
		name, contentType string
		data              []byte
		fromStore         bool
		want              []string // codings stored; none: not compressed
	}{
		{"javascript", "text/javascript; charset=utf-8", js(100), false, []string{"br", "gzip"}},
		{"read from the store", "text/javascript; charset=utf-8", js(101), true, []string{"br", "gzip"}},
		{"source map", "application/json", js(102), false, []string{"gzip"}},
		{"bytecode", "application/x-hermes-bytecode", js(103), false, []string{"br", "gzip"}},
		{"svg", "image/svg+xml", js(104), false, []string{"br", "gzip"}},
		{"png", "image/png", js(105), false, nil},
		{"server part", "application/gzip", js(106), false, nil},
		{"too small", "text/javascript", []byte("export const a = 1;"), false, nil},
		{"saves nothing", "text/javascript", random, false, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, precompress.Config{})
			sha := e.store.add(tc.data)
			data := tc.data
			if tc.fromStore {
				data = nil
			}
			e.c.Enqueue(sha, data, tc.contentType)
			e.wait(t)
			enc := e.store.encodings(sha)
			var codings []string
			for _, c := range []string{"br", "gzip"} {
				v, ok := enc[c]
				if !ok {
					continue
				}
				codings = append(codings, c)
				b, _ := e.store.Blob(context.Background(), v.SHA256)
				if sum(b) != v.SHA256 || int64(len(b)) != v.Size || len(b) >= len(tc.data) || !bytes.Equal(decode(t, c, b), tc.data) {
					t.Errorf("%s variant %+v does not decode to the blob, or saves nothing", c, v)
				}
			}
			if strings.Join(codings, ",") != strings.Join(tc.want, ",") {
				t.Fatalf("codings %v, want %v", codings, tc.want)
			}
			got := e.published()
			if len(tc.want) == 0 {
				if len(got) != 0 || e.c.Done() != 0 {
					t.Fatalf("published %v, done %d for a blob not compressed", got, e.c.Done())
				}
				return
			}
			if len(got) != 1 || got[0].SHA != sha || len(got[0].Encodings) != len(tc.want) || e.c.Done() != 1 {
				t.Fatalf("published %+v, done %d", got, e.c.Done())
			}
		})
	}
}

type index map[string]registry.Artifact

func (i index) Artifact(sha string) (registry.Artifact, bool) { a, ok := i[sha]; return a, ok }

// TestKnownVariantsAreNotRedone: a blob the index knows with variants is
// not queued.
func TestKnownVariantsAreNotRedone(t *testing.T) {
	t.Parallel()
	data := js(100)
	sha := sum(data)
	e := newEnv(t, precompress.Config{Index: index{sha: {SHA256: sha, Encodings: map[string]string{"gzip": "x"}}}})
	e.store.add(data)
	e.c.Enqueue(sha, data, "text/javascript")
	if !e.sched.Idle() {
		t.Fatal("a blob with variants was queued")
	}
	other := js(99)
	e.c.Enqueue(e.store.add(other), other, "text/javascript") // not in the index: compressed
	e.wait(t)
	if e.store.encodings(sha) != nil || e.store.encodings(sum(other)) == nil {
		t.Fatal("compressed the known blob, or not the other")
	}
}

// TestOnceAcrossReplicas: the work goes through Once under the blob's key;
// when Made says another replica did it, nothing is stored or told.
func TestOnceAcrossReplicas(t *testing.T) {
	t.Parallel()
	var once schedulertest.Once
	var mu sync.Mutex
	data := js(100)
	madeElsewhere := sum(data)
	var took time.Duration
	e := newEnv(t, precompress.Config{Once: once.Run,
		Made: func(_ context.Context, sha string) (bool, error) { return sha == madeElsewhere, nil },
		Took: func(d time.Duration) { mu.Lock(); took += d; mu.Unlock() }})
	e.store.add(data)
	other := js(99)
	e.store.add(other)
	e.c.Enqueue(madeElsewhere, data, "text/javascript")
	e.c.Enqueue(sum(other), other, "text/javascript")
	e.wait(t)
	mu.Lock()
	defer mu.Unlock()
	if keys := once.Keys(); len(keys) != 2 || keys[0] != "precompress:"+madeElsewhere || keys[1] != "precompress:"+sum(other) {
		t.Fatalf("claims %v", keys)
	}
	if e.store.encodings(madeElsewhere) != nil || e.store.encodings(sum(other)) == nil || e.c.Done() != 1 || took <= 0 {
		t.Fatalf("stored %v / %v, done %d, took %v: want only the blob no replica made", e.store.encodings(madeElsewhere), e.store.encodings(sum(other)), e.c.Done(), took)
	}
}
