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
	req := c.pending
	var (
		sent    int
		n       int
		werr    error
		rerr    error
		blocked bool // the socket took only part of the request
		waited  bool
	)
	err := c.rc.Read(func(fd uintptr) bool {
		if !waited {
			waited = true
			for sent < len(req) {
				m, err := syscall.Write(int(fd), req[sent:])
				switch {
				case err == syscall.EINTR:
					continue
				case err == syscall.EAGAIN:
					blocked = true
					return true
				case err != nil:
					werr = err
					return true
				}
				sent += m
			}
			return false // nothing can have come yet: wait before reading
		}
		for {
			m, err := syscall.Read(int(fd), p)
			switch {
			case err == syscall.EINTR:
				continue
			case err == syscall.EAGAIN:
				return false // woken early: wait again
			}
			n, rerr = max(m, 0), err
			return true
		}
	})
	c.deferred = false
	switch {
	case blocked:
		// The rest is written as usual, under the write deadline.
		c.sendErr = c.send(req[sent:])
		return c.nc.Read(p)
	case werr != nil:
		// As when a write fails on its own: the answer is read anyway
		// (the upstream may have answered before it stopped reading).
		c.sendErr = &net.OpError{Op: "write", Net: "tcp", Source: c.nc.LocalAddr(), Addr: c.nc.RemoteAddr(),
			Err: os.NewSyscallError("write", werr)}
		return c.nc.Read(p)
	case err != nil: // the deadline, or the connection closed
		return 0, err
	case rerr != nil:
		return 0, &net.OpError{Op: "read", Net: "tcp", Source: c.nc.LocalAddr(), Addr: c.nc.RemoteAddr(),
			Err: os.NewSyscallError("read", rerr)}
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}
