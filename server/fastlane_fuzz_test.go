package server

import (
	"bufio"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// FuzzParseHead checks the fast lane against net/http: a head parseHead
// accepts must be one http.ReadRequest reads the same way (method, target,
// path, query, host, close, and the headers the fast lane passes on, each
// sent once), without a body.
func FuzzParseHead(f *testing.F) {
	for _, s := range []string{
		"GET /api/v1/manifest?team=engineering HTTP/1.1\r\nHost: 127.0.0.1:8065\r\nAuthorization: Bearer abc\r\n\r\n",
		"GET /api/v1/manifest?team=a%20b&platform=web HTTP/1.1\r\nHost: x\r\nIf-None-Match: \"0123\"\r\nCookie: MMAUTHTOKEN=t; x=y\r\nConnection: keep-alive\r\n\r\n",
		"HEAD /bundles/0123.js HTTP/1.1\r\nhost: x\r\naccept-encoding: gzip, br\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
		"GET /bundles/0123.js HTTP/1.1\r\nHost: x\r\nX-Requested-With: XMLHttpRequest\r\nUser-Agent: t\r\n\r\n",
		"GET /bundles/0123.js HTTP/1.1\r\nHost: x\r\nAuthorization:\tBearer  a \t\r\n\r\n",
		"GET /api/v1/manifest HTTP/1.1\r\nHost: [::1]:80\r\n\r\n",
		"GET /api/v4/users/me?x=1 HTTP/1.1\r\nHost: x\r\nAccept: */*\r\naccept: text/html\r\nX-Forwarded-For: 1.2.3.4\r\nuser-agent: t\r\n\r\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, ok := parseHead(s, func(string) bool { return true }, nil)
		if !ok {
			return
		}
		req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(s)))
		if err != nil {
			t.Fatalf("the fast lane accepts a head net/http refuses: %q: %v", s, err)
		}
		if req.Method != h.method || req.RequestURI != h.target || req.URL.Path != h.path ||
			req.URL.RawQuery != h.query || req.Host != h.host || req.Close != h.close {
			t.Fatalf("%q: net/http reads %s %q path %q query %q host %q close %v; the fast lane %s %q path %q query %q host %q close %v",
				s, req.Method, req.RequestURI, req.URL.Path, req.URL.RawQuery, req.Host, req.Close,
				h.method, h.target, h.path, h.query, h.host, h.close)
		}
		if req.ContentLength > 0 || len(req.TransferEncoding) > 0 {
			t.Fatalf("%q: the fast lane accepts a request with a body", s)
		}
		if h.route == routeUpstream {
			got := http.Header{}
			upstreamHeader(&h, got, nil)
			if !reflect.DeepEqual(got, req.Header) && (len(got) > 0 || len(req.Header) > 0) {
				t.Fatalf("%q: net/http reads the headers %q, the fast lane %q", s, req.Header, got)
			}
		}
		for i, k := range knownHeaders {
			vs := req.Header.Values(k)
			if len(vs) > 1 || h.has[i] != (len(vs) == 1) || h.has[i] && vs[0] != h.known[i] {
				t.Fatalf("%q: header %s: net/http reads %q, the fast lane %q (present %v)", s, k, vs, h.known[i], h.has[i])
			}
		}
	})
}
