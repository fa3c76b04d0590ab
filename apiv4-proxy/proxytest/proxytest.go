// Package proxytest holds stand-in upstreams for tests and benchmarks of
// the proxy, in this package and in the server's.
package proxytest

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"sync"
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

// RequestLineUpstream listens on loopback and answers every request on its
// connections with 200 and, as the body, the request line exactly as it
// arrived ("GET /api/v4/a%2Fb?x=1 HTTP/1.1"): tests see what a path became
// on its way. It returns the upstream's URL; the listener and its
// connections close when the test ends. Requests must have no body.
func RequestLineUpstream(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	var (
		mu    sync.Mutex
		conns = map[net.Conn]bool{}
		wg    sync.WaitGroup
	)
	tb.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns[c] = true
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					line, err := br.ReadString('\n')
					if err != nil {
						return
					}
					for { // the rest of the head
						l, err := br.ReadSlice('\n')
						if err != nil {
							return
						}
						if len(l) == 2 {
							break
						}
					}
					body := strings.TrimSuffix(line, "\r\n")
					if _, err := fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s", len(body), body); err != nil {
						return
					}
				}
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}
