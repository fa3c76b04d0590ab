//go:build unix

package apiv4proxy

import (
	"errors"
	"net"
	"syscall"
)

// idleSocketEmpty reports whether nothing is waiting to be read on an idle
// connection (and the upstream has not closed it): one recv with MSG_PEEK
// and MSG_DONTWAIT, which neither consumes nor waits. It runs through
// RawConn.Control, by the connection's reader between two reads
// (guardConn.clean), so nothing else reads meanwhile.
func idleSocketEmpty(nc net.Conn) bool {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return true // not a socket (a test's pipe): nothing to look at
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	var (
		buf  [1]byte
		rerr error
	)
	if err := rc.Control(func(fd uintptr) {
		for {
			_, _, rerr = syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
			if rerr != syscall.EINTR {
				return
			}
		}
	}); err != nil {
		return false
	}
	// EAGAIN: open, nothing to read. nil: a byte, or 0 bytes (closed).
	return errors.Is(rerr, syscall.EAGAIN) || errors.Is(rerr, syscall.EWOULDBLOCK)
}
