//go:build !linux

package server

import "net"

type connWriter struct {
	c    net.Conn
	more bool
}

func newConnWriter(c net.Conn) *connWriter { return &connWriter{c: c} }

func (cw *connWriter) Write(p []byte) (int, error) { return cw.c.Write(p) }

func (cw *connWriter) sendFileAt(fd int, size int64) (int64, bool, error) { return 0, false, nil }

func (cw *connWriter) rcNil() bool { return true }

func (cw *connWriter) waitPeerGone() bool { return false }

func (cw *connWriter) canWatch() bool { return false }
