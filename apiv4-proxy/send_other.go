//go:build !unix

package apiv4proxy

import (
	"net"
	"syscall"
)

// rawConn: requests are written as usual here (see sendThenRead).
func rawConn(net.Conn) syscall.RawConn { return nil }

// sendThenRead is not used where rawConn is nil: the request is written
// when flushed.
func (c *connReader) sendThenRead(p []byte) (int, error) {
	c.sendErr = c.send(c.pending)
	return c.nc.Read(p)
}

// sendState is sendThenRead's progress where it sends and reads itself.
type sendState struct{}
