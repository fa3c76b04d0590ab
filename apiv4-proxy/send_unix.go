//go:build unix

package apiv4proxy

import (
	"io"
	"net"
	"os"
	"syscall"
)

// rawConn is a plain TCP connection's descriptor, for sendThenRead; nil
// for any other connection.
func rawConn(nc net.Conn) syscall.RawConn {
	tc, ok := nc.(*net.TCPConn)
	if !ok {
		return nil
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return nil
	}
	return rc
}

// sendThenRead sends the kept request and reads the start of the answer
// into p, waiting for it under the read deadline.
//
// The order is what makes skipping the first read safe: RawConn.Read
// forgets any readiness the runtime saw before it starts, and only then is
// the request written, so whatever the upstream sends in answer (or a
// reset, if it had closed the connection) arrives after and wakes the
// wait. A stale connection the upstream closed earlier is also woken by
// the reset that the request provokes.
func (c *connReader) sendThenRead(p []byte) (int, error) {
	st := &c.send1
	*st = sendState{req: c.pending, p: p}
	if c.step == nil {
		c.step = c.sendStep // once per connection: a closure per exchange would be an allocation
	}
	err := c.rc.Read(c.step)
	req, sent, n := st.req, st.sent, st.n
	st.req, st.p = nil, nil
	if err != nil && !st.waited {
		// The deadline had passed (or the connection was closed) before
		// the request went out: it stays kept, for the next read to send.
		// Dropped, the next read would wait for an answer to nothing.
		return 0, err
	}
	c.deferred = false
	switch {
	case st.blocked:
		// The rest is written as usual, under the write deadline.
		c.sendErr = c.send(req[sent:])
		return c.nc.Read(p)
	case st.werr != nil:
		// As when a write fails on its own: the answer is read anyway
		// (the upstream may have answered before it stopped reading).
		c.sendErr = &net.OpError{Op: "write", Net: "tcp", Source: c.nc.LocalAddr(), Addr: c.nc.RemoteAddr(),
			Err: os.NewSyscallError("write", st.werr)}
		return c.nc.Read(p)
	case err != nil: // the deadline, or the connection closed
		return 0, err
	case st.rerr != nil:
		return 0, &net.OpError{Op: "read", Net: "tcp", Source: c.nc.LocalAddr(), Addr: c.nc.RemoteAddr(),
			Err: os.NewSyscallError("read", st.rerr)}
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}

// sendState is one sendThenRead's progress, kept in the connReader.
type sendState struct {
	req, p     []byte // the request to send, the buffer to read into
	sent, n    int    // bytes of req sent, of p read
	werr, rerr error
	blocked    bool // the socket took only part of the request
	waited     bool // the request is sent: the next call reads
}

// sendStep is RawConn.Read's function for sendThenRead: its first call
// sends the request and asks to wait; the next ones read.
func (c *connReader) sendStep(fd uintptr) bool {
	st := &c.send1
	if !st.waited {
		st.waited = true
		for st.sent < len(st.req) {
			m, err := syscall.Write(int(fd), st.req[st.sent:])
			switch {
			case err == syscall.EINTR:
				continue
			case err == syscall.EAGAIN:
				st.blocked = true
				return true
			case err != nil:
				st.werr = err
				return true
			}
			st.sent += m
		}
		return false // nothing can have come yet: wait before reading
	}
	for {
		m, err := syscall.Read(int(fd), st.p)
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			return false // woken early: wait again
		}
		st.n, st.rerr = max(m, 0), err
		return true
	}
}
