// Package bytecode compiles stored mobile bundles to Hermes bytecode in
// the background, so that an app whose Hermes reads that bytecode version
// loads a plugin without parsing its JavaScript. A mobile bundle is
// compiled once per hermesc bytecode version: right after the push that
// stored it, on the server's scheduler (kind scheduler.Bytecode, after
// source maps and ahead of the rest), and at a start for every stored
// bundle without bytecode for this hermesc (pushes from before hermesc was
// installed or upgraded, and compiles a stop interrupted). Until then, and
// for a bundle hermesc rejects (recorded, so not retried at every start),
// apps get the JS bundle.
//
// With replicas sharing a database, each bundle is compiled by one of them
// (Config.Once); the others learn the bytecode from the change log.
//
// The package imports no net/http: the server signs and serves manifests.
package bytecode

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/mmtoolkit/mmtoolkit/bundler"
	"github.com/mmtoolkit/mmtoolkit/internal/app/changes"
	"github.com/mmtoolkit/mmtoolkit/internal/app/scheduler"
	"github.com/mmtoolkit/mmtoolkit/registry"
)

// Timeout bounds one hermesc run.
const Timeout = 2 * time.Minute

// Hermes compiles a mobile bundle (*bundler.Hermes); a *bundler.CompileError
// is a bundle it rejects.
type Hermes interface {
	Compile(ctx context.Context, js []byte) (*bundler.Bytecode, error)
}

// Store is what the compiler needs of the registry.
type Store interface {
	Blob(ctx context.Context, sha string) ([]byte, error)
	registry.Bytecodes
}

// Index is the artifact index: stored bytecode is added at the start, so
// /bundles/<sha>.hbc serves it (later bytecode reaches it through the
// feed's changes.BytecodeStored).
type Index interface {
	AddBytecode(registry.Bytecode)
}

// Compressor makes the variants of a new bytecode blob
// (*precompress.Compressor).
type Compressor interface {
	Enqueue(sha string, data []byte, contentType string)
}

// Config sets up a Compiler. Store, Hermes, Scheduler and Feed are
// required; Version and Release are hermesc's (bundler.Hermes).
type Config struct {
	Store     Store
	Hermes    Hermes
	Version   uint32 // the bytecode version hermesc emits
	Release   string // hermesc's release, recorded with each compile
	Scheduler *scheduler.Scheduler
	// Feed gets a changes.BytecodeStored for every bytecode stored.
	Feed       *changes.Feed
	Index      Index      // nil: not told
	Compressor Compressor // nil: bytecode is served as it is
	Log        *slog.Logger
	// Once runs work unless another replica is doing it or did it (done,
	// asked under the claim): the server's claim. nil runs work.
	Once func(ctx context.Context, key string, done func() (bool, error), work func() error) error
	// Took is told how long each hermesc run took (the server's metrics);
	// nil: not told.
	Took func(time.Duration)
}

// Job is one mobile bundle to compile.
type Job struct {
	Source string // SHA-256 of the JS blob
	JS     []byte // nil: read it from the store
	Plugin string // id@version, for logs
}

// Compiler queues and runs the compiles.
type Compiler struct {
	cfg Config
}

// New returns a Compiler queueing its work on cfg.Scheduler. Start it.
func New(cfg Config) *Compiler {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	return &Compiler{cfg: cfg}
}

// Start indexes the stored bytecode (Config.Index) and queues the stored
// mobile bundles, stored, that have none for this hermesc's version.
func (c *Compiler) Start(ctx context.Context, stored []Job) error {
	all, err := c.cfg.Store.AllBytecode(ctx)
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for _, bc := range all {
		if bc.BytecodeVersion == c.cfg.Version {
			have[bc.Source] = true // compiled or rejected: either way, done
		}
		if bc.Error == "" && c.cfg.Index != nil {
			c.cfg.Index.AddBytecode(bc)
		}
	}
	for _, j := range stored {
		if !have[j.Source] {
			have[j.Source] = true
			c.Enqueue(j)
		}
	}
	return nil
}

// VersionStored queues a newly stored version's mobile bundle, if it has
// one. It never blocks the push.
func (c *Compiler) VersionStored(v *registry.Version) {
	if a, ok := v.Artifacts[registry.MobileJS]; ok {
		c.Enqueue(Job{Source: a.SHA256, Plugin: v.PluginID + "@" + v.Version})
	}
}

// Enqueue asks the scheduler for j's bytecode; it never blocks. A compile
// the scheduler drops or Close interrupts is redone at the next start
// (Start).
func (c *Compiler) Enqueue(j Job) {
	c.cfg.Scheduler.Enqueue(scheduler.Bytecode, j.Source, func(ctx context.Context) error {
		if err := c.compile(ctx, j); err != nil {
			return fmt.Errorf("%s: %w", j.Plugin, err) // the log names the plugin
		}
		return nil
	})
}

// compile runs hermesc on one JS blob and stores the result in its own
// transaction, once across replicas (Config.Once).
func (c *Compiler) compile(ctx context.Context, j Job) error {
	work := func() error { return c.compileNow(ctx, j) }
	if c.cfg.Once == nil {
		return work()
	}
	return c.cfg.Once(ctx, fmt.Sprintf("bytecode:%s:%d", j.Source, c.cfg.Version), func() (bool, error) {
		have, err := c.cfg.Store.Bytecode(ctx, j.Source)
		for _, b := range have {
			if b.BytecodeVersion == c.cfg.Version {
				return true, err
			}
		}
		return false, err
	}, work)
}

// compileNow compiles and stores. Source hermesc rejects is recorded (so
// it is not retried at every start) and logged; the JS bundle keeps being
// served.
func (c *Compiler) compileNow(ctx context.Context, j Job) error {
	js := j.JS
	if js == nil {
		var err error
		if js, err = c.cfg.Store.Blob(ctx, j.Source); err != nil {
			return err
		}
	}
	cctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	t0 := time.Now()
	out, err := c.cfg.Hermes.Compile(cctx, js)
	took := time.Since(t0)
	rec := registry.Bytecode{Source: j.Source, BytecodeVersion: c.cfg.Version, Compiler: "hermes " + c.cfg.Release,
		CompileMS: float64(took.Microseconds()) / 1000}
	var ce *bundler.CompileError
	switch {
	case errors.As(err, &ce):
		rec.Error = ce.Error()
		c.cfg.Log.Warn("hermesc rejected a mobile bundle; apps get the JS bundle", "plugin", j.Plugin, "err", ce.Error())
		return c.cfg.Store.PutBytecode(ctx, rec, nil)
	case err != nil:
		return err
	}
	rec.Artifact = registry.Artifact{SHA256: sum(out.HBC), Size: int64(len(out.HBC)), ContentType: bundler.BytecodeContentType}
	if err := c.cfg.Store.PutBytecode(ctx, rec, out.HBC); err != nil {
		return err
	}
	c.cfg.Feed.Publish(ctx, changes.BytecodeStored{Bytecode: rec})
	if c.cfg.Took != nil {
		c.cfg.Took(took)
	}
	if c.cfg.Compressor != nil {
		c.cfg.Compressor.Enqueue(rec.Artifact.SHA256, out.HBC, bundler.BytecodeContentType)
	}
	return nil
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}
