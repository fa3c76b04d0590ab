// Package proxytest holds stand-in upstreams for tests and benchmarks of
// the proxy, in this package and in the server's.
package proxytest

import (
	"bufio"
	"net"
	"testing"
)

// RawUpstream listens on loopback and answers every request head on its
// connections with answer, as it is, without net/http: benchmarks then
// measure the proxy and not the upstream. It returns the upstream's URL;
// the listener closes when the test ends. Requests must have no body.
func RawUpstream(tb testing.TB, answer string) string {
	tb.Helper()
	a := []byte(answer)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					for { // a request head, to its empty line
						line, err := br.ReadSlice('\n')
						if err != nil {
							return
						}
						if len(line) == 2 {
							break
						}
					}
					if _, err := c.Write(a); err != nil {
						return
					}
				}
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}
