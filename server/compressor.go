package server

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/andybalholm/brotli"

	"github.com/mmtoolkit/mmtoolkit/registry"
)

// Compression levels. Variants are made once per blob, in the background,
// so they can afford more than an on-the-fly encoder, but they share two
// cores with pushes and requests: brotli 11 would cost about 2.5 s of CPU
// per megabyte of JavaScript, 9 about 0.15 s for 3% more bytes. Source maps
// are fetched only by developer tools and get a cheap gzip.
const (
	gzipLevelJS  = gzip.BestCompression
	brotliJS     = 9
	gzipLevelMap = 6
	// minCompress is the size under which compressing is not worth a header.
	minCompress = 256
)

// compressor makes the gzip and brotli variants of stored blobs, one blob at
// a time (bounded CPU), and records them with registry.PutEncodings. Until a
// blob's variants exist it is served as it is.
type compressor struct {
	s     *Server
	log   *slog.Logger
	queue chan compressJob

	mu      sync.Mutex
	pending map[string]bool

	busy   atomic.Int64
	done   atomic.Uint64
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

type compressJob struct {
	sha, contentType string
	data             []byte // nil: read it from the store
}

func newCompressor(s *Server) *compressor {
	ctx, cancel := context.WithCancel(context.Background())
	c := &compressor{s: s, log: s.log, queue: make(chan compressJob, 4096), pending: map[string]bool{}, cancel: cancel}
	c.wg.Add(1)
	go c.run(ctx)
	return c
}

// enqueue asks for the variants of a blob; it never blocks a push. A job
// that does not fit the queue is made again at the next start.
func (c *compressor) enqueue(sha string, data []byte, contentType string) {
	if len(data) < minCompress && data != nil {
		return
	}
	if a, ok := c.s.artifact(sha); ok && len(a.Encodings) > 0 {
		return
	}
	c.mu.Lock()
	if c.pending[sha] {
		c.mu.Unlock()
		return
	}
	c.pending[sha] = true
	c.mu.Unlock()
	c.busy.Add(1)
	select {
	case c.queue <- compressJob{sha, contentType, data}:
	default:
		c.finish(sha)
		c.log.Warn("compression queue full; variants will be made at the next start", "blob", sha)
	}
}

func (c *compressor) finish(sha string) {
	c.mu.Lock()
	delete(c.pending, sha)
	c.mu.Unlock()
	c.busy.Add(-1)
}

func (c *compressor) run(ctx context.Context) {
	defer c.wg.Done()
	for {
		select {
		case <-ctx.Done():
			return
		case j := <-c.queue:
			if err := c.compress(ctx, j); err != nil && ctx.Err() == nil {
				c.log.Error("precompress bundle", "blob", j.sha, "err", err)
			}
			c.finish(j.sha)
		}
	}
}

func (c *compressor) compress(ctx context.Context, j compressJob) error {
	t0 := time.Now()
	data := j.data
	if data == nil {
		var err error
		if data, err = c.s.store.Blob(ctx, j.sha); err != nil {
			return err
		}
	}
	variants := map[string][]byte{}
	if strings.HasPrefix(j.contentType, "application/json") {
		variants["gzip"] = gzipBytes(data, gzipLevelMap)
	} else {
		var wg sync.WaitGroup
		var gz, br []byte
		wg.Add(2)
		go func() { defer wg.Done(); gz = gzipBytes(data, gzipLevelJS) }()
		go func() { defer wg.Done(); br = brotliBytes(data, brotliJS) }()
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
	if len(enc) == 0 {
		return nil
	}
	if err := c.s.store.PutEncodings(ctx, j.sha, enc, blobs); err != nil {
		return err
	}
	c.s.addEncodings(j.sha, enc)
	c.s.metrics.compile("precompress", time.Since(t0))
	c.done.Add(1)
	return nil
}

// idle reports whether no variants are being made or waiting.
func (c *compressor) idle() bool { return c.busy.Load() == 0 }

func (c *compressor) close() {
	c.cancel()
	c.wg.Wait()
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
