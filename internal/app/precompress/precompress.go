// Package precompress makes the gzip and brotli variants of stored blobs
// (bundles, source maps, Hermes bytecode), so that a bundle request costs
// a lookup and a copy instead of an encoder run. The variants are made
// once per blob, in the background (the server's scheduler, kind
// scheduler.Precompress, after every other kind of background work), and
// recorded with the store's PutEncodings; the change feed then tells the
// artifact index (changes.EncodingsStored). Until a blob's variants exist
// it is served as it is, so nothing waits for them, and a variant that
// saves nothing is not kept.
//
// With replicas sharing a database, each blob is compressed by one of
// them (Config.Once): the others learn the variants from the change log.
//
// The package imports no net/http: the server negotiates encodings.
package precompress

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/andybalholm/brotli"

	"github.com/mmtoolkit/mmtoolkit/internal/app/changes"
	"github.com/mmtoolkit/mmtoolkit/internal/app/scheduler"
	"github.com/mmtoolkit/mmtoolkit/registry"
)

// Compression levels. Variants are made once per blob, in the background,
// so they can afford more than an on-the-fly encoder, but they share two
// cores with pushes and requests: brotli 11 would cost about 2.5 s of CPU
// per megabyte of JavaScript, 9 about 0.15 s for 3% more bytes. Source maps
// (JSON) are fetched only by developer tools and get a cheap gzip.
const (
	GzipLevelJS  = gzip.BestCompression
	BrotliJS     = 9
	GzipLevelMap = 6
	// MinSize is the size under which compressing is not worth a header.
	MinSize = 256
)

// typeGzip is a server part's .tar.gz: compressed already.
const typeGzip = "application/gzip"

// Store is what the compressor needs of the registry.
type Store interface {
	Blob(ctx context.Context, sha string) ([]byte, error)
	PutEncodings(ctx context.Context, sha string, enc map[string]registry.Encoded, blobs map[string][]byte) error
}

// Index is what the compressor asks the artifact index: a blob known with
// variants is not compressed again.
type Index interface {
	Artifact(sha string) (registry.Artifact, bool)
}

// Config sets up a Compressor. Store, Scheduler and Feed are required.
type Config struct {
	Store     Store
	Scheduler *scheduler.Scheduler
	// Feed gets a changes.EncodingsStored for every blob compressed.
	Feed  *changes.Feed
	Index Index // nil: every blob asked for is compressed
	// Once runs work unless another replica is doing it or did it (done,
	// asked under the claim): the server's claim. nil runs work.
	Once func(ctx context.Context, key string, done func() (bool, error), work func() error) error
	// Made reports whether another replica already stored sha's variants
	// (Once's done). nil: never.
	Made func(ctx context.Context, sha string) (bool, error)
	// Took is told how long each blob took to compress (the server's
	// metrics); nil: not told.
	Took func(time.Duration)
}

// Compressor makes the variants of the blobs it is asked for, in the
// background.
type Compressor struct {
	cfg  Config
	done atomic.Uint64
}

// New returns a Compressor queueing its work on cfg.Scheduler.
func New(cfg Config) *Compressor { return &Compressor{cfg: cfg} }

// Done is how many blobs this compressor stored variants of.
func (c *Compressor) Done() uint64 { return c.done.Load() }

// Enqueue asks for the variants of blob sha, of contentType; data is its
// bytes, or nil to read them from the store when the job runs. It never
// blocks (a push calls it): a blob too small, compressed already or with
// variants is skipped, and a job the scheduler drops is redone at the next
// start (the server asks again for every blob without variants).
func (c *Compressor) Enqueue(sha string, data []byte, contentType string) {
	if len(data) < MinSize && data != nil {
		return
	}
	if strings.HasPrefix(contentType, "image/") && contentType != "image/svg+xml" || contentType == typeGzip {
		return // PNG, JPEG, WebP and a server part's .tar.gz are compressed already
	}
	if c.cfg.Index != nil {
		if a, ok := c.cfg.Index.Artifact(sha); ok && len(a.Encodings) > 0 {
			return
		}
	}
	c.cfg.Scheduler.Enqueue(scheduler.Precompress, sha, func(ctx context.Context) error {
		return c.compress(ctx, sha, contentType, data)
	})
}

// compress makes a blob's variants, once across replicas (Config.Once): a
// replica that finds them made, or being made, by another skips the blob
// and learns the variants from the change log.
func (c *Compressor) compress(ctx context.Context, sha, contentType string, data []byte) error {
	work := func() error { return c.compressNow(ctx, sha, contentType, data) }
	if c.cfg.Once == nil {
		return work()
	}
	return c.cfg.Once(ctx, "precompress:"+sha, func() (bool, error) {
		if c.cfg.Made == nil {
			return false, nil
		}
		return c.cfg.Made(ctx, sha)
	}, work)
}

func (c *Compressor) compressNow(ctx context.Context, sha, contentType string, data []byte) error {
	t0 := time.Now()
	if data == nil {
		var err error
		if data, err = c.cfg.Store.Blob(ctx, sha); err != nil {
			return err
		}
	}
	enc, blobs := Variants(data, contentType)
	if len(enc) == 0 {
		return nil
	}
	if err := c.cfg.Store.PutEncodings(ctx, sha, enc, blobs); err != nil {
		return err
	}
	c.cfg.Feed.Publish(ctx, changes.EncodingsStored{SHA: sha, Encodings: enc})
	if c.cfg.Took != nil {
		c.cfg.Took(time.Since(t0))
	}
	c.done.Add(1)
	return nil
}

// Variants makes data's variants: gzip for JSON (source maps), gzip and
// brotli, in parallel, for the rest. It returns those smaller than data,
// by coding, and their bytes by SHA-256.
func Variants(data []byte, contentType string) (map[string]registry.Encoded, map[string][]byte) {
	variants := map[string][]byte{}
	if strings.HasPrefix(contentType, "application/json") {
		variants["gzip"] = gzipBytes(data, GzipLevelMap)
	} else {
		var wg sync.WaitGroup
		var gz, br []byte
		wg.Add(2)
		go func() { defer wg.Done(); gz = gzipBytes(data, GzipLevelJS) }()
		go func() { defer wg.Done(); br = brotliBytes(data, BrotliJS) }()
		wg.Wait()
		variants["gzip"], variants["br"] = gz, br
	}
	enc := map[string]registry.Encoded{}
	blobs := map[string][]byte{}
	for coding, b := range variants {
		if len(b) >= len(data) {
			continue // saves nothing
		}
		h := sha256.Sum256(b)
		sha := hex.EncodeToString(h[:])
		enc[coding], blobs[sha] = registry.Encoded{SHA256: sha, Size: int64(len(b))}, b
	}
	return enc, blobs
}

func gzipBytes(data []byte, level int) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, level)
	zw.Write(data)
	zw.Close()
	return buf.Bytes()
}

func brotliBytes(data []byte, quality int) []byte {
	var buf bytes.Buffer
	bw := brotli.NewWriterLevel(&buf, quality)
	bw.Write(data)
	bw.Close()
	return buf.Bytes()
}
