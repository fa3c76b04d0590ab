package server

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Edge serves the server on a listener. Every connection starts on a fast
// lane that answers the requests open pages and apps repeat most, GET of
// /api/v1/manifest, GET or HEAD of /bundles/{file} and GET of the
// /api/v4/* routes passed to the upstream Mattermost, with the same
// handlers as always but without net/http's per-request machinery (a
// goroutine and a read armed per request, a parsed header map, a response
// object): on loopback that machinery is about a third of the CPU a
// manifest revalidation costs (docs/benchmarks.md). The first request of
// any other kind, or any request the fast lane does not read exactly as
// net/http would (see parseHead), hands the connection, with the bytes
// already read, to the http.Server for the rest of its life.
type Edge struct {
	srv  *Server
	hs   *http.Server
	slow *connQueue
	ln   net.Listener

	// Fast-lane limits, from hs (zero: net/http's defaults).
	idle, readHeader, write time.Duration

	closing atomic.Bool
	mu      sync.Mutex
	conns   map[*fastConn]struct{}
	wg      sync.WaitGroup

	fastServed atomic.Uint64
	handedOff  atomic.Uint64

	// routes are the route table's fast-lane routes (routetable.go), by
	// kind of path and method (0 GET, 1 HEAD); nil: net/http's lane.
	routes [nFastKinds][2]*fastHandler
	// toUpstream reports whether the router passes GET of an /api/v4/
	// path to the upstream (nil without one): see upstreamPaths.
	toUpstream func(path string) bool
}

// NewEdge prepares an Edge for s, handing other requests to hs, whose
// Handler must be s (or wrap it). hs's timeouts apply on the fast lane
// too: IdleTimeout between requests, ReadHeaderTimeout for a request's
// head, WriteTimeout for its answer.
func (s *Server) NewEdge(hs *http.Server) *Edge {
	e := &Edge{srv: s, hs: hs, conns: map[*fastConn]struct{}{},
		idle: hs.IdleTimeout, readHeader: hs.ReadHeaderTimeout, write: hs.WriteTimeout}
	if e.idle == 0 {
		e.idle = hs.ReadTimeout
	}
	if e.readHeader == 0 {
		e.readHeader = hs.ReadTimeout
	}
	e.routes = s.fast
	if e.routes[routeUpstream][0] != nil {
		e.toUpstream = s.upstreamPaths()
	}
	s.edge.Store(e)
	return e
}

const (
	bundleRoute   = "/bundles/{file}"
	upstreamRoute = "/api/v4/*"
)

// Serve accepts connections on ln until Shutdown; like http.Server.Serve it
// returns http.ErrServerClosed then.
func (e *Edge) Serve(ln net.Listener) error {
	e.mu.Lock()
	if e.closing.Load() {
		e.mu.Unlock()
		return http.ErrServerClosed
	}
	e.ln, e.slow = ln, newConnQueue(ln.Addr())
	e.mu.Unlock()
	slowDone := make(chan error, 1)
	go func() { slowDone <- e.hs.Serve(e.slow) }()
	var delay time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			if e.closing.Load() {
				return http.ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() { // as net/http: back off on EMFILE and the like
				if delay == 0 {
					delay = 5 * time.Millisecond
				} else if delay *= 2; delay > time.Second {
					delay = time.Second
				}
				e.srv.log.Warn("accept failed; retrying", "err", err, "in", delay)
				time.Sleep(delay)
				continue
			}
			e.slow.Close()
			return err
		}
		delay = 0
		fc := e.track(c)
		if fc == nil {
			c.Close()
			continue
		}
		go fc.serve()
	}
}

func (e *Edge) track(c net.Conn) *fastConn {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closing.Load() {
		return nil
	}
	fc := newFastConn(e, c)
	e.conns[fc] = struct{}{}
	e.wg.Add(1)
	return fc
}

func (e *Edge) untrack(fc *fastConn) {
	e.mu.Lock()
	delete(e.conns, fc)
	e.mu.Unlock()
	e.wg.Done()
}

// Shutdown stops accepting (it closes the listener), lets requests in
// flight finish, closes idle connections on both lanes, and waits for them
// until ctx ends, like http.Server.Shutdown.
func (e *Edge) Shutdown(ctx context.Context) error {
	e.mu.Lock()
	e.closing.Store(true)
	ln, slow := e.ln, e.slow
	for fc := range e.conns {
		fc.wakeIfIdle()
	}
	e.mu.Unlock()
	if ln == nil {
		return nil // Serve never ran
	}
	ln.Close()
	slowErr := make(chan error, 1)
	go func() { slowErr <- e.hs.Shutdown(ctx); slow.Close() }()
	done := make(chan struct{})
	go func() { e.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		e.mu.Lock()
		for fc := range e.conns {
			fc.c.Close()
		}
		e.mu.Unlock()
		return ctx.Err()
	}
	return <-slowErr
}

// FastServed and HandedOff count requests answered on the fast lane and
// connections handed to net/http (for tests and /metrics).
func (e *Edge) FastServed() uint64 { return e.fastServed.Load() }
func (e *Edge) HandedOff() uint64  { return e.handedOff.Load() }

// connQueue is the net.Listener the http.Server serves: it yields the
// connections the fast lane hands over.
type connQueue struct {
	addr   net.Addr
	ch     chan net.Conn
	once   sync.Once
	closed chan struct{}
}

func newConnQueue(addr net.Addr) *connQueue {
	return &connQueue{addr: addr, ch: make(chan net.Conn), closed: make(chan struct{})}
}

func (q *connQueue) Accept() (net.Conn, error) {
	select {
	case c := <-q.ch:
		return c, nil
	case <-q.closed:
		return nil, net.ErrClosed
	}
}

// handoff gives c to the http.Server; false when it no longer accepts.
func (q *connQueue) handoff(c net.Conn) bool {
	select {
	case q.ch <- c:
		return true
	case <-q.closed:
		return false
	}
}

func (q *connQueue) Close() error {
	q.once.Do(func() { close(q.closed) })
	return nil
}

func (q *connQueue) Addr() net.Addr { return q.addr }

// prefixConn is a connection whose first bytes were already read into r.
// It keeps what net/http looks for on a *net.TCPConn: ReadFrom (sendfile)
// and CloseWrite.
type prefixConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *prefixConn) Read(p []byte) (int, error) {
	if c.r != nil {
		if c.r.Buffered() > 0 {
			return c.r.Read(p)
		}
		// Drained: read the socket directly from now on, and give the
		// buffer back for the next fast-lane connection.
		c.r.Reset(nil)
		fastReaders.Put(c.r)
		c.r = nil
	}
	return c.Conn.Read(p)
}

func (c *prefixConn) ReadFrom(src io.Reader) (int64, error) {
	if rf, ok := c.Conn.(io.ReaderFrom); ok {
		return rf.ReadFrom(src)
	}
	return io.Copy(writerOnly{c.Conn}, src)
}

func (c *prefixConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// writerOnly hides a writer's ReadFrom, so io.Copy does not recurse.
type writerOnly struct{ io.Writer }
