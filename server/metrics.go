package server

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-chi/chi/v5"
)

// metrics is a small Prometheus text-format registry. It is hand-written on
// purpose: counters and histograms on atomics cost a few nanoseconds on the
// hot manifest and bundle paths, and the exposition format is simple.
type metrics struct {
	start time.Time
	// routes by method and pattern. A plain map under a read lock: a
	// struct key needs no allocation to look up, unlike sync.Map's any.
	routesMu sync.RWMutex
	routes   map[routeKey]*histogram

	pushes   sync.Map // result -> *atomic.Uint64
	compiles sync.Map // target -> *histogram
}

type routeKey struct{ method, route string }

// latency buckets in seconds.
var buckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}

type histogram struct {
	counts [14]atomic.Uint64 // len(buckets)+1 (+Inf)
	sumNS  atomic.Uint64

	codesMu sync.RWMutex
	codes   map[int]*atomic.Uint64 // by status
}

// code counts one response of status code. As for routes, a map under a
// read lock: boxing a status over 255 into sync.Map's any would allocate.
// A status without a name (an upstream may answer any of 100-999) is
// counted in its class, so the label set stays bounded (statusKey).
func (h *histogram) code(status int) {
	status = statusKey(status)
	h.codesMu.RLock()
	c, ok := h.codes[status]
	h.codesMu.RUnlock()
	if !ok {
		h.codesMu.Lock()
		if h.codes == nil {
			h.codes = map[int]*atomic.Uint64{}
		}
		if c, ok = h.codes[status]; !ok {
			c = new(atomic.Uint64)
			h.codes[status] = c
		}
		h.codesMu.Unlock()
	}
	c.Add(1)
}

// statusKey is the key a status is counted under: itself when it is a
// status net/http names, else -(its class), written "5xx" and the like.
func statusKey(status int) int {
	if http.StatusText(status) != "" {
		return status
	}
	return -(status / 100)
}

// statusLabel is the label value of a key of statusKey.
func statusLabel(key int) string {
	if key < 0 {
		return strconv.Itoa(-key) + "xx"
	}
	return strconv.Itoa(key)
}

// methodLabel is the method label of a request: a method of RFC 9110 or
// PATCH, or OTHER. Any token is a valid method, and a label per method a
// client makes up grew /metrics without bound (issue #15, F07).
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "OTHER"
}

func (h *histogram) observe(d time.Duration) {
	s := d.Seconds()
	i := sort.SearchFloat64s(buckets, s)
	h.counts[i].Add(1)
	h.sumNS.Add(uint64(d))
}

func newMetrics() *metrics { return &metrics{start: time.Now(), routes: map[routeKey]*histogram{}} }

func (m *metrics) route(k routeKey) *histogram {
	m.routesMu.RLock()
	h, ok := m.routes[k]
	m.routesMu.RUnlock()
	if ok {
		return h
	}
	m.routesMu.Lock()
	defer m.routesMu.Unlock()
	if h, ok = m.routes[k]; !ok {
		h = new(histogram)
		m.routes[k] = h
	}
	return h
}

func loadOrNew[T any](m *sync.Map, k any) *T {
	if v, ok := m.Load(k); ok {
		return v.(*T)
	}
	v, _ := m.LoadOrStore(k, new(T))
	return v.(*T)
}

// statusWriter records the status code a handler writes.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Hijack lets websocket upgrades through the metrics wrapper.
func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, fmt.Errorf("server: %T cannot be hijacked", w.ResponseWriter)
	}
	if w.status == 0 {
		w.status = http.StatusSwitchingProtocols
	}
	return h.Hijack()
}

// Flush lets streamed responses (proxied event streams) through.
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// writers recycles statusWriters: one per request on every route adds up
// on the manifest and bundle paths.
var writers = sync.Pool{New: func() any { return new(statusWriter) }}

// middleware counts requests and their latency by route pattern (never by
// raw path, which would make the label set unbounded), method (known ones,
// else OTHER) and status (named ones, else the class): no label takes a
// value a client or the upstream chooses freely.
func (m *metrics) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t0 := time.Now()
		sw := writers.Get().(*statusWriter)
		sw.ResponseWriter, sw.status = w, 0
		defer func() {
			sw.ResponseWriter = nil
			writers.Put(sw)
		}()
		next.ServeHTTP(sw, r)
		route := "unmatched"
		if rc := chi.RouteContext(r.Context()); rc != nil {
			if p := rc.RoutePattern(); p != "" {
				route = p
			}
		}
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		h := m.route(routeKey{methodLabel(r.Method), route})
		h.observe(time.Since(t0))
		h.code(sw.status)
	})
}

// forRoute is middleware for one route of the table: the route's
// histogram is looked up once, on its first request, not per request (per
// request for a route of every method, whose label is the request's).
func (m *metrics) forRoute(method, pattern string) func(http.Handler) http.Handler {
	var fixed atomic.Pointer[histogram]
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			t0 := time.Now()
			sw := writers.Get().(*statusWriter)
			sw.ResponseWriter, sw.status = w, 0
			defer func() {
				sw.ResponseWriter = nil
				writers.Put(sw)
			}()
			next.ServeHTTP(sw, r)
			if sw.status == 0 {
				sw.status = http.StatusOK
			}
			h := fixed.Load()
			if h == nil {
				h = m.route(routeKey{methodLabel(r.Method), pattern})
				if method != "" {
					fixed.Store(h)
				}
			}
			h.observe(time.Since(t0))
			h.code(sw.status)
		})
	}
}

func (m *metrics) push(result string) { loadOrNew[atomic.Uint64](&m.pushes, result).Add(1) }

func (m *metrics) compile(target string, d time.Duration) {
	loadOrNew[histogram](&m.compiles, target).observe(d)
}

func (m *metrics) write(w io.Writer) {
	fmt.Fprintf(w, "# HELP mmtoolkit_uptime_seconds Seconds since the server started.\n# TYPE mmtoolkit_uptime_seconds gauge\nmmtoolkit_uptime_seconds %g\n",
		time.Since(m.start).Seconds())

	type row struct {
		k routeKey
		h *histogram
	}
	var rows []row
	m.routesMu.RLock()
	for k, h := range m.routes {
		rows = append(rows, row{k, h})
	}
	m.routesMu.RUnlock()
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].k.route != rows[j].k.route {
			return rows[i].k.route < rows[j].k.route
		}
		return rows[i].k.method < rows[j].k.method
	})
	fmt.Fprint(w, "# HELP mmtoolkit_http_requests_total HTTP requests by route pattern, method and status.\n# TYPE mmtoolkit_http_requests_total counter\n")
	for _, r := range rows {
		r.h.codesMu.RLock()
		codes := make([]int, 0, len(r.h.codes))
		for c := range r.h.codes {
			codes = append(codes, c)
		}
		sort.Ints(codes)
		for _, c := range codes {
			fmt.Fprintf(w, "mmtoolkit_http_requests_total{method=%q,route=%q,code=%q} %d\n", r.k.method, r.k.route, statusLabel(c), r.h.codes[c].Load())
		}
		r.h.codesMu.RUnlock()
	}
	fmt.Fprint(w, "# HELP mmtoolkit_http_request_duration_seconds HTTP request latency by route pattern and method.\n# TYPE mmtoolkit_http_request_duration_seconds histogram\n")
	for _, r := range rows {
		writeHistogram(w, "mmtoolkit_http_request_duration_seconds", fmt.Sprintf("method=%q,route=%q", r.k.method, r.k.route), r.h)
	}

	fmt.Fprint(w, "# HELP mmtoolkit_pushes_total Plugin pushes by result.\n# TYPE mmtoolkit_pushes_total counter\n")
	var results []string
	m.pushes.Range(func(k, _ any) bool { results = append(results, k.(string)); return true })
	sort.Strings(results)
	for _, res := range results {
		v, _ := m.pushes.Load(res)
		fmt.Fprintf(w, "mmtoolkit_pushes_total{result=%q} %d\n", res, v.(*atomic.Uint64).Load())
	}
	fmt.Fprint(w, "# HELP mmtoolkit_compile_duration_seconds Time to compile a bundle, by target.\n# TYPE mmtoolkit_compile_duration_seconds histogram\n")
	var targets []string
	m.compiles.Range(func(k, _ any) bool { targets = append(targets, k.(string)); return true })
	sort.Strings(targets)
	for _, t := range targets {
		v, _ := m.compiles.Load(t)
		writeHistogram(w, "mmtoolkit_compile_duration_seconds", fmt.Sprintf("target=%q", t), v.(*histogram))
	}
}

func writeHistogram(w io.Writer, name, labels string, h *histogram) {
	var cum uint64
	for i := range h.counts {
		cum += h.counts[i].Load()
		le := "+Inf"
		if i < len(buckets) {
			le = strconv.FormatFloat(buckets[i], 'g', -1, 64)
		}
		fmt.Fprintf(w, "%s_bucket{%s,le=%q} %d\n", name, labels, le, cum)
	}
	fmt.Fprintf(w, "%s_sum{%s} %g\n%s_count{%s} %d\n", name, labels, float64(h.sumNS.Load())/1e9, name, labels, cum)
}

func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	s.metrics.write(w)
	n := s.index.Len()
	fmt.Fprintf(w, "# HELP mmtoolkit_artifacts Bundles and source maps the server can serve.\n# TYPE mmtoolkit_artifacts gauge\nmmtoolkit_artifacts %d\n", n)
	fmt.Fprintf(w, "# HELP mmtoolkit_websocket_connections Open /api/v1/websocket connections.\n# TYPE mmtoolkit_websocket_connections gauge\nmmtoolkit_websocket_connections %d\n", s.hub.connected.Load())
	fmt.Fprintf(w, "# HELP mmtoolkit_websocket_dropped_total Connections dropped because they could not keep up.\n# TYPE mmtoolkit_websocket_dropped_total counter\nmmtoolkit_websocket_dropped_total %d\n", s.hub.dropped.Load())
	fmt.Fprintf(w, "# HELP mmtoolkit_events_delivered_total Events handed to websocket connections.\n# TYPE mmtoolkit_events_delivered_total counter\nmmtoolkit_events_delivered_total %d\n", s.hub.delivered.Load())
	fmt.Fprintf(w, "# HELP mmtoolkit_bundle_cache_bytes Bytes held by the bundle cache.\n# TYPE mmtoolkit_bundle_cache_bytes gauge\nmmtoolkit_bundle_cache_bytes %d\n", s.bundles.size())
	if s.files != nil {
		fmt.Fprintf(w, "# HELP mmtoolkit_bundles_sent_from_files_total Bundle answers sent from blob files (sendfile).\n# TYPE mmtoolkit_bundles_sent_from_files_total counter\nmmtoolkit_bundles_sent_from_files_total %d\n", s.files.sent.Load())
	}
	s.writeReplicaMetrics(w) // replica.go
	if e := s.edge.Load(); e != nil {
		fmt.Fprintf(w, "# HELP mmtoolkit_edge_fast_requests_total Requests answered on the Edge's fast lane.\n# TYPE mmtoolkit_edge_fast_requests_total counter\nmmtoolkit_edge_fast_requests_total %d\n", e.fastServed.Load())
		fmt.Fprintf(w, "# HELP mmtoolkit_edge_handoffs_total Connections the Edge's fast lane handed to net/http.\n# TYPE mmtoolkit_edge_handoffs_total counter\nmmtoolkit_edge_handoffs_total %d\n", e.handedOff.Load())
	}
}

func (s *Server) serveHealth(w http.ResponseWriter, r *http.Request) {
	if _, err := s.store.Plugins(r.Context()); err != nil {
		writeErrorBody(w, errorf(http.StatusServiceUnavailable, CodeStoreUnavailable, "the registry cannot be read: %v", err))
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}
