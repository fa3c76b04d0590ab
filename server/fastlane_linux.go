package server

import (
	"io"
	"net"
	"syscall"
)

// connWriter is what a fast-lane connection's buffered writer writes to.
// With more set, a write tells the kernel more data follows at once
// (MSG_MORE): the headers of a file answer then leave in the same segment
// as the start of the file, as nginx's tcp_nopush does, instead of a small
// segment of their own.
type connWriter struct {
	c    net.Conn
	rc   syscall.RawConn // nil: not a TCP connection
	more bool
}

func newConnWriter(c net.Conn) *connWriter {
	cw := &connWriter{c: c}
	if tc, ok := c.(*net.TCPConn); ok {
		if rc, err := tc.SyscallConn(); err == nil {
			cw.rc = rc
		}
	}
	return cw
}

func (cw *connWriter) Write(p []byte) (int, error) {
	if !cw.more || cw.rc == nil {
		return cw.c.Write(p)
	}
	var n int
	var werr error
	err := cw.rc.Write(func(fd uintptr) bool {
		for n < len(p) {
			m, err := syscall.SendmsgN(int(fd), p[n:], nil, nil, syscall.MSG_MORE)
			switch {
			case err == syscall.EINTR:
				continue
			case err == syscall.EAGAIN:
				return false // wait until writable
			case err != nil:
				werr = err
				return true
			}
			n += m
		}
		return true
	})
	if werr == nil {
		werr = err
	}
	return n, werr
}

// sendFileAt sends size bytes of the file fd from offset 0 with
// sendfile(2) and an explicit offset, so one open descriptor serves every
// request at once. It reports false when the connection cannot do it.
func (cw *connWriter) sendFileAt(fd int, size int64) (int64, bool, error) {
	if cw.rc == nil {
		return 0, false, nil
	}
	var off int64
	var werr error
	err := cw.rc.Write(func(sock uintptr) bool {
		for off < size {
			n, err := syscall.Sendfile(int(sock), fd, &off, int(min(size-off, 1<<30)))
			switch {
			case err == syscall.EINTR:
				continue
			case err == syscall.EAGAIN:
				return false
			case err != nil:
				werr = err
				return true
			case n == 0:
				werr = io.ErrUnexpectedEOF // the file is shorter than it was
				return true
			}
		}
		return true
	})
	if werr == nil {
		werr = err
	}
	return off, true, werr
}

func (cw *connWriter) rcNil() bool { return cw.rc == nil }

// waitPeerGone waits until the client's side of the connection says
// something and reports whether that was its end (EOF or a reset) rather
// than more bytes (a pipelined request, left for the serve loop) or the
// wait being cut by a deadline. It peeks and consumes nothing.
func (cw *connWriter) waitPeerGone() bool {
	if cw.rc == nil {
		return false
	}
	gone := false
	err := cw.rc.Read(func(fd uintptr) bool {
		var b [1]byte
		n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		switch {
		case err == syscall.EAGAIN || err == syscall.EINTR:
			return false // wait until readable
		case err != nil || n == 0:
			gone = true
		}
		return true
	})
	return err == nil && gone
}

// canWatch reports whether waitPeerGone can wait on this connection.
func (cw *connWriter) canWatch() bool { return cw.rc != nil }
