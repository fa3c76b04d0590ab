package server

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
// are fetched only by developer tools and get a cheap gzip.
const (
	gzipLevelJS  = gzip.BestCompression
	brotliJS     = 9
	gzipLevelMap = 6
	// minCompress is the size under which compressing is not worth a header.
	minCompress = 256
)

// compressor makes the gzip and brotli variants of stored blobs in the
// background (the server's scheduler, kind scheduler.Precompress, after
// every other kind), and records them with registry.PutEncodings. Until a
// blob's variants exist it is served as it is.
type compressor struct {
	s    *Server
	done atomic.Uint64
}

type compressJob struct {
	sha, contentType string
	data             []byte // nil: read it from the store
}

func newCompressor(s *Server) *compressor { return &compressor{s: s} }

// enqueue asks for the variants of a blob; it never blocks a push.
func (c *compressor) enqueue(sha string, data []byte, contentType string) {
	if len(data) < minCompress && data != nil {
		return
	}
	if strings.HasPrefix(contentType, "image/") && contentType != "image/svg+xml" || contentType == typeGzip {
		return // PNG, JPEG, WebP and a server part's .tar.gz are compressed already
	}
	if a, ok := c.s.index.Artifact(sha); ok && len(a.Encodings) > 0 {
		return
	}
	j := compressJob{sha, contentType, data}
	c.s.sched.Enqueue(scheduler.Precompress, sha, func(ctx context.Context) error { return c.compress(ctx, j) })
}

// compress makes j's variants, once across replicas (Server.claim): a
// replica that finds them made, or being made, by another skips the blob
// and learns the variants from the change log.
func (c *compressor) compress(ctx context.Context, j compressJob) error {
	return c.s.claim(ctx, "precompress:"+j.sha, func() (bool, error) { return c.s.encoded(ctx, j.sha) },
		func() error { return c.compressNow(ctx, j) })
}

func (c *compressor) compressNow(ctx context.Context, j compressJob) error {
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
	c.s.changes.Publish(ctx, changes.EncodingsStored{SHA: j.sha, Encodings: enc}) // changes.go
	c.s.metrics.compile("precompress", time.Since(t0))
	c.done.Add(1)
	return nil
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
