package apiv4proxy

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// tcpPair is a connected pair of TCP connections on loopback.
func tcpPair(t *testing.T) (client, server *net.TCPConn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s := <-accepted
	if s == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { c.Close(); s.Close() })
	return c.(*net.TCPConn), s.(*net.TCPConn)
}

// TestSendThenRead: a kept request reaches the upstream whole, and the
// read returns its answer, whether the answer comes at once or later.
func TestSendThenRead(t *testing.T) {
	for _, delay := range []time.Duration{0, 50 * time.Millisecond} {
		c, s := tcpPair(t)
		cr := &connReader{nc: c, rc: rawConn(c)}
		if cr.rc == nil && runtime.GOOS != "windows" && runtime.GOOS != "plan9" {
			t.Fatal("no descriptor for a TCP connection")
		}
		req := "GET /x HTTP/1.1\r\nHost: u\r\n\r\n"
		cr.deferSend(true, time.Now().Add(5*time.Second))
		// A small buffer: the request leaves it in several writes, all kept.
		bw := bufio.NewWriterSize(cr, 16)
		bw.WriteString(req)
		if err := bw.Flush(); err != nil {
			t.Fatal(err)
		}
		go func() {
			got := make([]byte, len(req))
			if _, err := io.ReadFull(s, got); err != nil || string(got) != req {
				t.Errorf("the upstream read %q, %v", got, err)
			}
			time.Sleep(delay)
			s.Write([]byte("answer"))
		}()
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 64)
		n, err := cr.Read(buf)
		if err != nil || string(buf[:n]) != "answer" || cr.sendErr != nil {
			t.Fatalf("delay %v: read %q, %v (send: %v)", delay, buf[:n], err, cr.sendErr)
		}
		if cr.deferred {
			t.Fatal("still keeping writes after the request was sent")
		}
	}
}

// TestSendThenReadBlocked: a request larger than the socket takes at once
// is written to its end as an ordinary write would, then answered.
func TestSendThenReadBlocked(t *testing.T) {
	c, s := tcpPair(t)
	c.SetWriteBuffer(4096)
	cr := &connReader{nc: c, rc: rawConn(c)}
	req := "GET /x HTTP/1.1\r\nHost: u\r\nX-Big: " + strings.Repeat("b", 4<<20) + "\r\n\r\n"
	cr.deferSend(true, time.Now().Add(10*time.Second))
	cr.Write([]byte(req))
	go func() {
		time.Sleep(100 * time.Millisecond) // the socket's buffers fill up meanwhile
		got := make([]byte, len(req))
		if _, err := io.ReadFull(s, got); err != nil || string(got) != req {
			t.Errorf("the upstream read %d bytes (%v), want the %d-byte request", len(got), err, len(req))
		}
		s.Write([]byte("answer"))
	}()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 64)
	n, err := cr.Read(buf)
	if err != nil || string(buf[:n]) != "answer" || cr.sendErr != nil {
		t.Fatalf("read %q, %v (send: %v)", buf[:n], err, cr.sendErr)
	}
}

// TestSendThenReadTimeout: an upstream that never answers is cut by the
// read deadline, reported as a timeout.
func TestSendThenReadTimeout(t *testing.T) {
	c, _ := tcpPair(t)
	cr := &connReader{nc: c, rc: rawConn(c)}
	cr.deferSend(true, time.Now().Add(5*time.Second))
	cr.Write([]byte("GET / HTTP/1.1\r\nHost: u\r\n\r\n"))
	c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	start := time.Now()
	_, err := cr.Read(make([]byte, 64))
	if !isTimeout(err) {
		t.Fatalf("got %v, want a timeout", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("the timeout came after %v", d)
	}
}

// TestSendThenReadClosedUpstream: a request on a connection the upstream
// has reset fails as a failed write and read do (what the proxy takes for
// a stale pooled connection and sends again), and one the upstream closed
// after answering something ends in that answer, not in a wait.
func TestSendThenReadClosedUpstream(t *testing.T) {
	c, s := tcpPair(t)
	s.SetLinger(0)
	s.Close() // a reset
	time.Sleep(20 * time.Millisecond)
	cr := &connReader{nc: c, rc: rawConn(c)}
	cr.deferSend(true, time.Now().Add(5*time.Second))
	cr.Write([]byte("GET / HTTP/1.1\r\nHost: u\r\n\r\n"))
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err := cr.Read(make([]byte, 64))
	if err == nil {
		t.Fatal("read from a reset connection succeeded")
	}
	reset := func(err error) bool { return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) }
	if !reset(cr.sendErr) && !reset(err) {
		t.Fatalf("got %v (send: %v), want a reset", err, cr.sendErr)
	}

	// Bytes and a FIN that came while the connection sat idle.
	c, s = tcpPair(t)
	s.Write([]byte("HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"))
	s.Close()
	time.Sleep(20 * time.Millisecond)
	cr = &connReader{nc: c, rc: rawConn(c)}
	cr.deferSend(true, time.Now().Add(5*time.Second))
	cr.Write([]byte("GET / HTTP/1.1\r\nHost: u\r\n\r\n"))
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	start := time.Now()
	buf := make([]byte, 256)
	n, err := cr.Read(buf)
	if d := time.Since(start); d > time.Second {
		t.Fatalf("the read waited %v", d)
	}
	if err == nil && !bytes.HasPrefix(buf[:n], []byte("HTTP/1.1 408")) {
		t.Fatalf("read %q", buf[:n])
	}
	if err != nil && !errors.Is(err, syscall.ECONNRESET) && !errors.Is(err, io.EOF) {
		t.Fatalf("got %v, want the 408, a reset or EOF", err)
	}
}
