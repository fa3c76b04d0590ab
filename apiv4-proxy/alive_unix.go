//go:build unix

package apiv4proxy

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"syscall"
)

// connAlive reports whether an idle connection is still open: a peek
// without waiting sees the upstream's FIN (or stray bytes) that arrived
// while it sat in the pool. One non-blocking syscall.
func connAlive(nc net.Conn) bool {
	if tc, ok := nc.(*tls.Conn); ok {
		nc = tc.NetConn()
	}
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return true
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	var (
		buf  [1]byte
		rerr error
	)
	err = rc.Read(func(fd uintptr) bool {
		_, _, rerr = syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		return true // never wait
	})
	switch {
	case err != nil:
		return false
	case errors.Is(rerr, syscall.EAGAIN) || errors.Is(rerr, syscall.EWOULDBLOCK):
		return true // open, nothing to read
	default:
		return false // closed (n == 0), reset, or unexpected bytes
	}
}

// alive is connAlive for a pooled connection, without allocating (it runs
// before every exchange on a reused connection): the descriptor and the
// peek function are the connection's, made once.
func (c *connReader) alive() bool {
	if c.rc == nil {
		return connAlive(c.nc) // TLS
	}
	if c.peek == nil {
		c.peek = c.peekStep
	}
	c.peekErr = nil
	if err := c.rc.Read(c.peek); err != nil {
		return false
	}
	return errors.Is(c.peekErr, syscall.EAGAIN) || errors.Is(c.peekErr, syscall.EWOULDBLOCK)
}

func (c *connReader) peekStep(fd uintptr) bool {
	var n int
	n, _, c.peekErr = syscall.Recvfrom(int(fd), c.peekBuf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
	if c.peekErr == nil && n == 0 {
		c.peekErr = io.EOF
	}
	return true // never wait
}
