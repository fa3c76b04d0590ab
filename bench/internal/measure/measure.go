// Package measure holds what the Go benchmark commands of bench/ share:
// medians of repeated runs, gzip sizes as the server stores them, and the
// units their tables print.
package measure

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"sort"
	"time"
)

// Median runs f n times and returns the median wall time; 0 if a run fails
// (the caller reads the error f recorded).
func Median(n int, f func() error) time.Duration {
	var ds []time.Duration
	for i := 0; i < n; i++ {
		t := time.Now()
		if f() != nil {
			return 0
		}
		ds = append(ds, time.Since(t))
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[len(ds)/2]
}

// GzipLen is the size of b at gzip level 9, what the server's precompressor
// stores and serves.
func GzipLen(b []byte) int {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(b)
	zw.Close()
	return buf.Len()
}

// KB formats a byte count as kibibytes with one decimal.
func KB(n int) string { return fmt.Sprintf("%.1f KB", float64(n)/1024) }

// MS is d in milliseconds, to the microsecond.
func MS(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
