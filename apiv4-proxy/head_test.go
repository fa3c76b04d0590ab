package apiv4proxy

import (
	"bufio"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// answerHeads are upstream answers of the kinds parseAnswerHead takes and
// of the kinds it must leave to http.ReadResponse.
var answerHeads = []struct {
	raw  string
	fast bool // parseAnswerHead takes it
}{
	{"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nDate: Tue, 24 Nov 2026 06:33:00 GMT\r\n\r\n{}", true},
	{"HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\ncontent-length: 5\r\nx-request-id: abc\r\n\r\nnope!", true},
	{"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", true},
	{"HTTP/1.1 200\r\nContent-Length: 3\r\n\r\nabcNEXT", true},
	{"HTTP/1.1 302 Found\r\nLocation: http://mm.example.com/chat/login?x\r\nContent-Length: 0\r\nSet-Cookie: a=1; Path=/chat\r\nSet-Cookie: b=2\r\n\r\n", true},
	{"HTTP/1.1 200 OK\r\nContent-Length:  4 \t\r\nX-Empty:\r\nX-Tab:\tv\tw\t\r\n\r\nbody", true},
	{"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nConnection: keep-alive, Close\r\n\r\nx", true},
	{"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nConnection: keep-alive\r\nX-Obs: caf\xc3\xa9\r\n\r\nx", true},
	{"HTTP/1.1 200 OK\r\nContent-Length: 007\r\n\r\n1234567", true},
	{"HTTP/1.1 503 Service Unavailable  \r\nContent-Length: 1\r\nRetry-After: 5\r\n\r\nx", true},

	{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", false},
	{"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", false},
	{"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end", false},
	{"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx", false},
	{"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxx", false},
	{"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", false},
	{"HTTP/1.1 200 OK\r\nContent-Length: +1\r\n\r\nx", false},
	{"HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n", false},
	{"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nPragma: no-cache\r\n\r\nx", false},
	{"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTrailer: X\r\n\r\nx", false},
	{"HTTP/1.1 204 No Content\r\nContent-Length: 1\r\n\r\n", false},
	{"HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n", false},
	{"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx", false},
	{"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n", false},
	{"HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx", false},
	{"HTTP/1.1  200 OK\r\nContent-Length: 1\r\n\r\nx", false},
	{"HTTP/1.1 2000 OK\r\nContent-Length: 1\r\n\r\nx", false},
	{"HTTP/1.1 600 Odd\r\nContent-Length: 1\r\n\r\nx", false},
	{"HTTP/1.1 200 OK\nContent-Length: 1\n\nx", false},
	{"HTTP/1.1 200 OK\r\nContent-Length: 1\nX: y\r\n\r\nx", false},
	{"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nX: a\r\n folded\r\n\r\nx", false},
	{"HTTP/1.1 200 OK\r\n Leading: space\r\nContent-Length: 1\r\n\r\nx", false},
	{"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nBad Name: v\r\n\r\nx", false},
	{"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nNo-Colon\r\n\r\nx", false},
	{"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nX: a\x00b\r\n\r\nx", false},
	{"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nX: a\rb\r\n\r\nx", false},
	{"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n", false}, // the head is not all there
}

// TestParseAnswerHeadMatchesReadResponse: every head parseAnswerHead takes
// is read exactly as http.ReadResponse reads it, body and what follows
// included; the others it leaves unread.
func TestParseAnswerHeadMatchesReadResponse(t *testing.T) {
	for _, tt := range answerHeads {
		t.Run("", func(t *testing.T) {
			took := compareAnswerHead(t, tt.raw, "GET")
			if took != tt.fast {
				t.Errorf("%q: taken by the fast parser: %v, want %v", tt.raw, took, tt.fast)
			}
		})
	}
	// A HEAD's answer states the length of a body it does not carry.
	if compareAnswerHead(t, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", "HEAD") {
		t.Error("the fast parser took the answer to a HEAD")
	}
}

// FuzzParseAnswerHead: whatever the upstream sends, an answer the fast
// parser takes reads as http.ReadResponse reads it.
func FuzzParseAnswerHead(f *testing.F) {
	for _, tt := range answerHeads {
		f.Add(tt.raw)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		compareAnswerHead(t, raw, "GET")
	})
}

// compareAnswerHead reads raw with a reused answerHead (holding a previous
// answer, as on a kept-alive connection) and with http.ReadResponse, and
// fails the test when they differ. It reports whether the fast parser
// took raw.
func compareAnswerHead(t *testing.T, raw, method string) bool {
	t.Helper()
	req := &http.Request{Method: method}
	var a answerHead
	prev := "HTTP/1.1 200 OK\r\nX-Previous: 1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
	pbr := bufio.NewReader(strings.NewReader(prev))
	pbr.Peek(1)
	if _, ok := a.parse(pbr, &http.Request{Method: "GET"}); !ok {
		t.Fatal("the fast parser does not take a plain answer")
	}
	br := bufio.NewReader(strings.NewReader(raw))
	br.Peek(1) // what the proxy does before parsing: the answer is buffered
	fast, ok := a.parse(br, req)
	if !ok {
		if br.Buffered() != min(len(raw), 4096) {
			t.Fatalf("%q: the fast parser declined it but consumed %d bytes", raw, min(len(raw), 4096)-br.Buffered())
		}
		return false
	}
	want, err := http.ReadResponse(bufio.NewReader(strings.NewReader(raw)), req)
	if err != nil {
		t.Fatalf("%q: the fast parser took an answer http.ReadResponse refuses: %v", raw, err)
	}
	if fast.Status != want.Status || fast.StatusCode != want.StatusCode || fast.Proto != want.Proto ||
		fast.ProtoMajor != want.ProtoMajor || fast.ProtoMinor != want.ProtoMinor ||
		fast.ContentLength != want.ContentLength || fast.Close != want.Close || fast.Request != want.Request ||
		!reflect.DeepEqual(fast.TransferEncoding, want.TransferEncoding) || !reflect.DeepEqual(fast.Trailer, want.Trailer) {
		t.Fatalf("%q:\nfast %q %d %s %d.%d length %d close %v te %q trailer %q\nwant %q %d %s %d.%d length %d close %v te %q trailer %q",
			raw, fast.Status, fast.StatusCode, fast.Proto, fast.ProtoMajor, fast.ProtoMinor, fast.ContentLength, fast.Close, fast.TransferEncoding, fast.Trailer,
			want.Status, want.StatusCode, want.Proto, want.ProtoMajor, want.ProtoMinor, want.ContentLength, want.Close, want.TransferEncoding, want.Trailer)
	}
	if !reflect.DeepEqual(fast.Header, want.Header) {
		t.Fatalf("%q: headers\nfast %q\nwant %q", raw, fast.Header, want.Header)
	}
	if (fast.Body == http.NoBody) != (want.Body == http.NoBody) {
		t.Fatalf("%q: fast body is NoBody: %v, ReadResponse's: %v", raw, fast.Body == http.NoBody, want.Body == http.NoBody)
	}
	fb, ferr := io.ReadAll(fast.Body)
	wb, werr := io.ReadAll(want.Body)
	if string(fb) != string(wb) || (ferr == nil) != (werr == nil) {
		t.Fatalf("%q: body\nfast %q %v\nwant %q %v", raw, fb, ferr, wb, werr)
	}
	return true
}
