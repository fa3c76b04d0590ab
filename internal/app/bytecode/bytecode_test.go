package bytecode_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mmtoolkit/mmtoolkit/bundler"
	"github.com/mmtoolkit/mmtoolkit/internal/app/bytecode"
	"github.com/mmtoolkit/mmtoolkit/internal/app/changes"
	"github.com/mmtoolkit/mmtoolkit/internal/app/scheduler"
	"github.com/mmtoolkit/mmtoolkit/internal/app/scheduler/schedulertest"
	"github.com/mmtoolkit/mmtoolkit/registry"
)

const version = 96

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// memStore is a registry's blobs and bytecode records in memory.
type memStore struct {
	mu    sync.Mutex
	blobs map[string][]byte
	recs  []registry.Bytecode
}

func (m *memStore) Blob(_ context.Context, sha string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if b, ok := m.blobs[sha]; ok {
		return b, nil
	}
	return nil, errors.New("no such blob")
}

func (m *memStore) PutBytecode(_ context.Context, b registry.Bytecode, blob []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.recs = append(m.recs, b)
	if blob != nil {
		m.blobs[b.Artifact.SHA256] = blob
	}
	return nil
}

func (m *memStore) Bytecode(_ context.Context, source string) ([]registry.Bytecode, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []registry.Bytecode
	for _, r := range m.recs {
		if r.Source == source {
			out = append(out, r)
		}
	}
	return out, nil
}

func (m *memStore) AllBytecode(context.Context) ([]registry.Bytecode, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.recs), nil
}

func (m *memStore) records() []registry.Bytecode {
	recs, _ := m.AllBytecode(context.Background())
	return recs
}

// hermes "compiles" by prefixing HBC; it rejects JS containing "syntax
// error" and fails on "crash".
type hermes struct {
	mu       sync.Mutex
	compiled []string
}

func (h *hermes) Compile(_ context.Context, js []byte) (*bundler.Bytecode, error) {
	h.mu.Lock()
	h.compiled = append(h.compiled, sum(js))
	h.mu.Unlock()
	switch {
	case bytes.Contains(js, []byte("syntax error")):
		return nil, &bundler.CompileError{Target: bundler.Mobile, Diagnostics: []bundler.Diagnostic{{Text: "unexpected token"}}}
	case bytes.Contains(js, []byte("crash")):
		return nil, errors.New("hermesc: signal: killed")
	}
	return &bundler.Bytecode{HBC: append([]byte("HBC"), js...), Version: version}, nil
}

func (h *hermes) runs() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.compiled)
}

type recorder struct {
	mu         sync.Mutex
	indexed    []registry.Bytecode
	compressed []string
	stored     []registry.Bytecode
	took       int
}

func (r *recorder) AddBytecode(b registry.Bytecode) {
	r.mu.Lock()
	r.indexed = append(r.indexed, b)
	r.mu.Unlock()
}

func (r *recorder) Enqueue(sha string, data []byte, contentType string) {
	r.mu.Lock()
	r.compressed = append(r.compressed, sha+" "+contentType)
	r.mu.Unlock()
}

type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

type env struct {
	store *memStore
	h     *hermes
	rec   *recorder
	sched *scheduler.Scheduler
	log   *logBuf
	c     *bytecode.Compiler
}

func newEnv(t *testing.T, once func(context.Context, string, func() (bool, error), func() error) error) *env {
	t.Helper()
	e := &env{store: &memStore{blobs: map[string][]byte{}}, h: &hermes{}, rec: &recorder{}, log: &logBuf{}}
	log := slog.New(slog.NewTextHandler(e.log, nil))
	e.sched = scheduler.New(scheduler.Config{Log: log})
	t.Cleanup(e.sched.Close)
	feed := &changes.Feed{}
	changes.On(feed, "test", func(_ context.Context, c changes.BytecodeStored) {
		e.rec.mu.Lock()
		e.rec.stored = append(e.rec.stored, c.Bytecode)
		e.rec.mu.Unlock()
	})
	e.c = bytecode.New(bytecode.Config{Store: e.store, Hermes: e.h, Version: version, Release: "0.12.0",
		Scheduler: e.sched, Feed: feed, Index: e.rec, Compressor: e.rec, Log: log, Once: once,
		Took: func(time.Duration) { e.rec.mu.Lock(); e.rec.took++; e.rec.mu.Unlock() }})
	return e
}

func (e *env) blob(js string) string {
	sha := sum([]byte(js))
	e.store.mu.Lock()
	e.store.blobs[sha] = []byte(js)
	e.store.mu.Unlock()
	return sha
}

func (e *env) wait(t *testing.T) {
	t.Helper()
	schedulertest.WaitIdle(t, e.sched)
}

// TestVersionStoredCompiles: a version's mobile bundle is compiled, stored
// with its artifact, told on the feed, its variants asked for; a version
// without a mobile bundle asks nothing.
func TestVersionStoredCompiles(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	src := e.blob("export default function Plugin() {}")
	web := e.blob("web bundle")
	e.c.VersionStored(&registry.Version{PluginID: "com.example.a", Version: "1.0.0", Artifacts: map[string]registry.Artifact{
		registry.MobileJS: {SHA256: src}, registry.WebJS: {SHA256: web}}})
	e.c.VersionStored(&registry.Version{PluginID: "com.example.b", Version: "1.0.0", Artifacts: map[string]registry.Artifact{
		registry.WebJS: {SHA256: web}}})
	e.wait(t)
	if runs := e.h.runs(); !slices.Equal(runs, []string{src}) {
		t.Fatalf("compiled %v, want only the mobile bundle", runs)
	}
	recs := e.store.records()
	if len(recs) != 1 {
		t.Fatalf("records %+v", recs)
	}
	r := recs[0]
	hbc, _ := e.store.Blob(context.Background(), r.Artifact.SHA256)
	if r.Source != src || r.BytecodeVersion != version || r.Compiler != "hermes 0.12.0" || r.Error != "" ||
		r.Artifact.ContentType != bundler.BytecodeContentType || r.Artifact.SHA256 != sum(hbc) || r.Artifact.Size != int64(len(hbc)) {
		t.Fatalf("record %+v", r)
	}
	e.rec.mu.Lock()
	defer e.rec.mu.Unlock()
	if len(e.rec.stored) != 1 || e.rec.stored[0].Artifact.SHA256 != r.Artifact.SHA256 || e.rec.took != 1 ||
		!slices.Equal(e.rec.compressed, []string{r.Artifact.SHA256 + " " + bundler.BytecodeContentType}) {
		t.Fatalf("feed %+v, took %d, compressed %v", e.rec.stored, e.rec.took, e.rec.compressed)
	}
}

// TestRejectedIsRecorded: a bundle hermesc rejects is recorded with the
// error (not retried at the next start) and logged; nothing is served or
// told. A hermesc failure records nothing (retried at the next start).
func TestRejectedIsRecorded(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	bad := e.blob("syntax error here")
	crash := e.blob("crash")
	e.c.Enqueue(bytecode.Job{Source: bad, Plugin: "com.example.bad@1.0.0"})
	e.c.Enqueue(bytecode.Job{Source: crash, JS: []byte("crash"), Plugin: "com.example.crash@1.0.0"})
	e.wait(t)
	recs := e.store.records()
	if len(recs) != 1 || recs[0].Source != bad || !strings.Contains(recs[0].Error, "unexpected token") || recs[0].Artifact.SHA256 != "" {
		t.Fatalf("records %+v, want the rejection only", recs)
	}
	log := e.log.String()
	if !strings.Contains(log, "hermesc rejected a mobile bundle") || !strings.Contains(log, "com.example.bad@1.0.0") ||
		!strings.Contains(log, "hermes bytecode failed") || !strings.Contains(log, "com.example.crash@1.0.0: hermesc: signal: killed") {
		t.Errorf("log: %s", log)
	}
	e.rec.mu.Lock()
	defer e.rec.mu.Unlock()
	if len(e.rec.stored) != 0 || len(e.rec.compressed) != 0 {
		t.Fatalf("told %+v, compressed %v", e.rec.stored, e.rec.compressed)
	}
}

// TestStartCompilesWhatIsMissing: Start indexes stored bytecode and queues
// each stored bundle without a record for this version, once.
func TestStartCompilesWhatIsMissing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	done, rejected, older, missing := e.blob("done"), e.blob("rejected"), e.blob("older"), e.blob("missing")
	e.store.recs = []registry.Bytecode{
		{Source: done, BytecodeVersion: version, Artifact: registry.Artifact{SHA256: "hbc1"}},
		{Source: rejected, BytecodeVersion: version, Error: "unexpected token"},
		{Source: older, BytecodeVersion: version - 1, Artifact: registry.Artifact{SHA256: "hbc0"}},
	}
	stored := []bytecode.Job{{Source: done}, {Source: rejected}, {Source: older}, {Source: missing}, {Source: missing}}
	if err := e.c.Start(context.Background(), stored); err != nil {
		t.Fatal(err)
	}
	e.wait(t)
	runs := e.h.runs()
	slices.Sort(runs)
	want := []string{older, missing}
	slices.Sort(want)
	if !slices.Equal(runs, want) {
		t.Fatalf("compiled %v, want %v", runs, want)
	}
	e.rec.mu.Lock()
	defer e.rec.mu.Unlock()
	var indexed []string
	for _, b := range e.rec.indexed {
		indexed = append(indexed, b.Artifact.SHA256)
	}
	if !slices.Equal(indexed, []string{"hbc1", "hbc0"}) {
		t.Fatalf("indexed %v, want the stored bytecode without errors", indexed)
	}
}

// TestOnceAcrossReplicas: a compile goes through Once keyed by source and
// version; a record of this version stored meanwhile (by another replica)
// makes it done.
func TestOnceAcrossReplicas(t *testing.T) {
	t.Parallel()
	var once schedulertest.Once
	e := newEnv(t, once.Run)
	elsewhere, here := e.blob("compiled elsewhere"), e.blob("compiled here")
	e.store.recs = []registry.Bytecode{{Source: elsewhere, BytecodeVersion: version, Artifact: registry.Artifact{SHA256: "hbc"}}}
	e.c.Enqueue(bytecode.Job{Source: elsewhere})
	e.c.Enqueue(bytecode.Job{Source: here})
	e.wait(t)
	if keys := once.Keys(); !slices.Equal(keys, []string{"bytecode:" + elsewhere + ":96", "bytecode:" + here + ":96"}) {
		t.Fatalf("claims %v", keys)
	}
	if runs := e.h.runs(); !slices.Equal(runs, []string{here}) {
		t.Fatalf("compiled %v, want only the bundle no replica compiled", runs)
	}
}
