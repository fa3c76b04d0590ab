package apiv4proxy

import (
	"bufio"
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
	"testing"
)

// FuzzWriteRequest: whatever a client's request holds (method, path,
// query, a header of any name and value, a body of known or unknown
// length), what the proxy writes upstream is one well-formed HTTP/1.1
// request to the configured host: no header splitting, no second request
// smuggled after the body, no Mattermost-only or hop-by-hop header passed
// on, and the body byte for byte.
func FuzzWriteRequest(f *testing.F) {
	f.Add("GET", "/api/v4/users/me", "a=1", "X-Test", "v", []byte(nil), false, false)
	f.Add("POST", "/api/v4/posts", "", "Content-Type", "application/json", []byte(`{"message":"hi"}`), true, false)
	f.Add("PUT", "/api/v4/x", "", "Mattermost-User-Id", "admin", []byte("x"), false, true)
	f.Add("POST", "/a", "", "X-Evil", "v\r\nHost: evil", []byte("0\r\n\r\nGET /smuggled HTTP/1.1\r\n\r\n"), false, false)
	f.Add("GET", "/a b", "q=\r\n", "Transfer-Encoding", "chunked", []byte(nil), false, true)
	f.Add("GET", "/x", "", "Connection", "X-Keep, Upgrade", []byte(nil), false, true)
	f.Fuzz(func(t *testing.T, method, path, query, name, value string, body []byte, knownLength, trust bool) {
		p, err := newProxy("http://upstream.test:8065/chat", ProxyOptions{TrustForwardedHeaders: trust, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		r := &http.Request{Method: method, URL: &url.URL{Path: path, RawQuery: query}, Header: http.Header{},
			RemoteAddr: "192.0.2.1:4242", Body: http.NoBody}
		r.Header[name] = []string{value}
		var lb *limitedBody
		if len(body) > 0 {
			r.Body = io.NopCloser(bytes.NewReader(body))
			r.ContentLength = -1
			if knownLength {
				r.ContentLength = int64(len(body))
			}
			lb = &limitedBody{r: r.Body, left: p.maxBody}
		}
		var out bytes.Buffer
		req, err := p.outRequest(t.Context(), r, lb)
		if err == errBadTarget {
			return // answered 400 bad_path
		}
		if err != nil {
			t.Fatalf("outRequest: %v", err)
		}
		// What net/http's Transport writes on the connection.
		if err := req.Write(&out); err != nil {
			t.Fatalf("writing the request: %v", err)
		}
		br := bufio.NewReader(bytes.NewReader(out.Bytes()))
		got, err := http.ReadRequest(br)
		if err != nil {
			t.Fatalf("the proxy wrote a request that does not parse: %v\n%q", err, out.Bytes())
		}
		if got.Host != "upstream.test:8065" || got.Method != method || !strings.HasPrefix(got.RequestURI, "/chat/") {
			t.Fatalf("host %q method %q target %q\n%q", got.Host, got.Method, got.RequestURI, out.Bytes())
		}
		sent, err := io.ReadAll(got.Body)
		if err != nil {
			t.Fatalf("body: %v\n%q", err, out.Bytes())
		}
		if !bytes.Equal(sent, body) {
			t.Fatalf("body %q, client sent %q", sent, body)
		}
		if rest, _ := io.ReadAll(br); len(rest) > 0 {
			t.Fatalf("bytes after the request (a second request?): %q", rest)
		}
		canon := textproto.CanonicalMIMEHeaderKey(name)
		allowed := map[string]bool{canon: true, "X-Forwarded-For": true, "X-Real-Ip": true, "X-Forwarded-Proto": true,
			"Content-Length": true, "Transfer-Encoding": true}
		for k := range got.Header {
			if !allowed[k] {
				t.Fatalf("header %q appeared from %q: %q", k, name, out.Bytes())
			}
			if isSpoofable(k) || (isHopHeader(k) && k != "Transfer-Encoding") {
				t.Fatalf("header %q passed upstream", k)
			}
		}
		if ip := got.Header.Get("X-Real-Ip"); !trust && ip != "192.0.2.1" {
			t.Fatalf("X-Real-Ip %q from an untrusted client", ip)
		}
	})
}

// FuzzTokenFromRequest: the token and the CSRF rule read the same
// credential. A request CrossSiteForged refuses carries a cookie token and
// changes state, and one with a bearer token is never refused.
func FuzzTokenFromRequest(f *testing.F) {
	f.Add("POST", "Bearer abc", "MMAUTHTOKEN=def", "access_token=ghi", "")
	f.Add("PUT", "", "MMAUTHTOKEN=def; other=1", "", "XMLHttpRequest")
	f.Add("GET", "token x", "MMAUTHTOKEN=", "access_token=", "")
	f.Add("DELETE", "Basic Ym9i", "MMAUTHTOKEN=\"q\"", "access_token=%zz", "xmlhttprequest")
	f.Fuzz(func(t *testing.T, method, auth, cookie, query, xrw string) {
		r := &http.Request{Method: method, URL: &url.URL{Path: "/", RawQuery: query}, Header: http.Header{}}
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		if cookie != "" {
			r.Header.Set("Cookie", cookie)
		}
		if xrw != "" {
			r.Header.Set(CSRFHeader, xrw)
		}
		token := TokenFromRequest(r)
		forged := CrossSiteForged(r)
		if forged {
			c, err := r.Cookie("MMAUTHTOKEN")
			if err != nil || c.Value == "" || token != c.Value {
				t.Fatalf("refused as forged without a cookie token: token %q cookie %v %v", token, c, err)
			}
			switch method {
			case "GET", "HEAD", "OPTIONS":
				t.Fatalf("a %s refused as forged", method)
			}
			if xrw == CSRFHeaderValue {
				t.Fatal("refused with the header")
			}
		}
		// An Authorization header that carries a token is never ambient. One
		// with the scheme and no token ("Bearer ") carries none: the cookie
		// authenticates, and the CSRF rule applies.
		l := strings.ToLower(auth)
		hasToken := (strings.HasPrefix(l, "bearer ") && strings.TrimSpace(auth[7:]) != "") ||
			(strings.HasPrefix(l, "token ") && strings.TrimSpace(auth[6:]) != "")
		if hasToken && forged {
			t.Fatalf("a request with an Authorization token refused as forged")
		}
	})
}
