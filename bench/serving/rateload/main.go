// Command rateload sends GET requests at a fixed rate (an open loop, like
// wrk2) over a pool of keep-alive connections, and reports latency
// percentiles measured from when each request was due, not when it was
// sent: a server that falls behind is charged for the queue it builds
// (no coordinated omission). wrk's closed loop, by contrast, measures at
// saturation, where on a 2-core machine shared with the load generator the
// p99 is the length of the queue rather than the server's service time.
//
//	rateload -rate 20000 -duration 10s -header "Authorization: Bearer T" URL [URL...]
//
// URLs are requested in turn. Prints one line: "RATE_SENT P50_MS P90_MS
// P99_MS MAX_MS ERRORS LATE", LATE being the requests that could not be
// sent within 1 s of their due time (the generator itself fell behind).
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type headers []string

func (h *headers) String() string     { return strings.Join(*h, ", ") }
func (h *headers) Set(v string) error { *h = append(*h, v); return nil }

func main() {
	rate := flag.Int("rate", 10000, "requests per second")
	duration := flag.Duration("duration", 10*time.Second, "how long to send")
	conns := flag.Int("conns", 64, "connections (the most requests in flight)")
	var hdr headers
	flag.Var(&hdr, "header", `a request header, "Name: value" (repeatable)`)
	flag.Parse()
	if flag.NArg() == 0 || *rate <= 0 {
		fmt.Fprintln(os.Stderr, "usage: rateload [-rate N] [-duration D] [-conns N] [-header H]... URL...")
		os.Exit(2)
	}
	var host string
	var reqs [][]byte
	for _, raw := range flag.Args() {
		u, err := url.Parse(raw)
		if err != nil || u.Scheme != "http" {
			fmt.Fprintf(os.Stderr, "rateload: %q: an http:// URL is needed\n", raw)
			os.Exit(2)
		}
		host = u.Host
		var b strings.Builder
		fmt.Fprintf(&b, "GET %s HTTP/1.1\r\nHost: %s\r\n", u.RequestURI(), u.Host)
		for _, h := range hdr {
			b.WriteString(h + "\r\n")
		}
		b.WriteString("\r\n")
		reqs = append(reqs, []byte(b.String()))
	}

	n := int(int64(*rate) * int64(*duration) / int64(time.Second))
	due := make(chan time.Time, n)
	lat := make([]time.Duration, 0, n)
	var mu sync.Mutex
	var errs, late, sent atomic.Int64
	var wg sync.WaitGroup
	for i := 0; i < *conns; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			var c net.Conn
			var br *bufio.Reader
			k := i
			for t := range due {
				if time.Since(t) > time.Second {
					late.Add(1)
				}
				if c == nil {
					var err error
					if c, err = net.Dial("tcp", host); err != nil {
						errs.Add(1)
						continue
					}
					br = bufio.NewReaderSize(c, 64<<10)
				}
				req := reqs[k%len(reqs)]
				k++
				sent.Add(1)
				if _, err := c.Write(req); err != nil {
					errs.Add(1)
					c.Close()
					c = nil
					continue
				}
				status, err := readResponse(br)
				if err != nil || status >= 400 {
					errs.Add(1)
					if err != nil {
						c.Close()
						c = nil
						continue
					}
				}
				d := time.Since(t)
				mu.Lock()
				lat = append(lat, d)
				mu.Unlock()
			}
			if c != nil {
				c.Close()
			}
		}(i)
	}
	start := time.Now()
	interval := time.Second / time.Duration(*rate)
	// Every half millisecond, release the requests that fell due (with
	// their due times: latency counts from those).
	for i := 0; i < n; {
		now := time.Now()
		for ; i < n; i++ {
			t := start.Add(time.Duration(i) * interval)
			if t.After(now) {
				break
			}
			due <- t
		}
		time.Sleep(500 * time.Microsecond)
	}
	close(due)
	wg.Wait()
	elapsed := time.Since(start)
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))]) / 1e6
	}
	fmt.Printf("%.0f %.3f %.3f %.3f %.3f %d %d\n", float64(sent.Load())/elapsed.Seconds(),
		pct(0.5), pct(0.9), pct(0.99), pct(1), errs.Load(), late.Load())
}

// readResponse reads one answer with a Content-Length body (what the
// servers measured send) and returns its status, allocating nothing: the
// generator shares the CPUs with the server it measures.
func readResponse(br *bufio.Reader) (int, error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		return 0, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.1 ")) {
		return 0, fmt.Errorf("bad status line %q", line)
	}
	status := int(line[9]-'0')*100 + int(line[10]-'0')*10 + int(line[11]-'0')
	length := -1
	for {
		line, err = br.ReadSlice('\n')
		if err != nil {
			return 0, err
		}
		if len(line) <= 2 {
			break
		}
		if len(line) > 15 && bytes.EqualFold(line[:15], []byte("Content-Length:")) {
			n, err := strconv.Atoi(string(bytes.TrimSpace(line[15:])))
			if err != nil {
				return 0, err
			}
			length = n
		}
	}
	if length < 0 {
		if status == 304 || status == 204 {
			return status, nil
		}
		return 0, errors.New("an answer without Content-Length")
	}
	_, err = br.Discard(length)
	return status, err
}
