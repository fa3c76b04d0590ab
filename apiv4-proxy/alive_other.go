//go:build !unix

package apiv4proxy

import "net"

// connAlive cannot peek here; a closed idle connection shows when used.
func connAlive(net.Conn) bool { return true }

func (c *connReader) alive() bool { return connAlive(c.nc) }
