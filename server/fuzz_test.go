package server_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/mmtoolkit/mmtoolkit/server"
)

// Fuzz targets over real HTTP on loopback: outside input reaches the
// handlers through net/http and gorilla exactly as from a client. The
// property everywhere: never a 5xx, never a crash (a panic on a websocket
// goroutine would end the process), and what is accepted reads back.

// FuzzWebsocketMessage sends one arbitrary message on /api/v1/websocket
// (authenticated, or as the first, challenge message) and on the sandbox's
// /api/v4/websocket, then a ping: the connection either answers the ping
// or is closed, within two seconds.
func FuzzWebsocketMessage(f *testing.F) {
	e := newEnv(f, server.Config{})
	for _, s := range []string{
		`{"seq":1,"action":"ping"}`, `{"seq":1,"action":"authentication_challenge","data":{"token":"x"}}`,
		`{"seq":-1,"action":"user_typing","data":{"channel_id":"` + strings.Repeat("a", 26) + `"}}`,
		`{"seq":1e400}`, `[]`, `{"data":{"token":7}}`, "\x00\xff", `{"seq":2,"action":"user_typing","data":{"channel_id":null,"parent_id":{}}}`,
	} {
		f.Add([]byte(s), false, false, false)
		f.Add([]byte(s), true, true, false)
	}
	base := "ws" + strings.TrimPrefix(e.url, "http")
	f.Fuzz(func(t *testing.T, msg []byte, binary, v4, anonymous bool) {
		url := base + "/api/v1/websocket"
		if v4 {
			url = base + "/api/v4/websocket"
		}
		hdr := http.Header{"Authorization": {"Bearer " + e.tokens["bob"]}}
		if anonymous {
			hdr = nil
		}
		c, resp, err := websocket.DefaultDialer.Dial(url, hdr)
		if err != nil {
			t.Fatalf("dial: %v %v", err, resp)
		}
		defer c.Close()
		typ := websocket.TextMessage
		if binary {
			typ = websocket.BinaryMessage
		}
		c.SetWriteDeadline(time.Now().Add(2 * time.Second))
		if c.WriteMessage(typ, msg) != nil || c.WriteMessage(websocket.TextMessage, []byte(`{"seq":4242,"action":"ping"}`)) != nil {
			return // already closed by the server
		}
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		for {
			_, data, err := c.ReadMessage()
			var ce *websocket.CloseError
			switch {
			case errors.As(err, &ce), errors.Is(err, io.ErrUnexpectedEOF), err != nil && strings.Contains(err.Error(), "reset by peer"):
				return // closed: fine
			case err != nil:
				t.Fatalf("neither an answer nor a close: %v", err)
			}
			if bytes.Contains(data, []byte(`"seq_reply":4242`)) {
				return
			}
		}
	})
}

// FuzzKVKey writes a value under an arbitrary key: it is refused with a
// 4xx code, or stored and read back byte for byte under the same key.
func FuzzKVKey(f *testing.F) {
	e := newEnv(f, server.Config{})
	if r := e.push("dev", helloPlugin("com.example.kvfuzz", "1.0.0")); r.status != 201 {
		f.Fatal(r.status, string(r.body))
	}
	for _, s := range []string{"a", "a/b", "a..b", "../x", "a/./b", "%2e%2e", "a b", "é", strings.Repeat("k", 300), "a//b", "~:-._"} {
		f.Add(s, []byte(`{"v":1}`))
	}
	f.Fuzz(func(t *testing.T, key string, value []byte) {
		e := e.in(t)
		u := (&url.URL{Path: "/api/v1/plugins/com.example.kvfuzz/kv/user/" + key}).EscapedPath()
		r := e.do("bob", "PUT", u, "application/json", bytes.NewReader(value))
		switch {
		case r.status >= 500:
			t.Fatalf("PUT %q: %d %s", u, r.status, r.body)
		case r.status >= 400:
			r.errorCode(t) // a JSON error with a code and a message
			return
		case r.status != 200:
			t.Fatalf("PUT %q: %d %s", u, r.status, r.body)
		}
		got := e.do("bob", "GET", u, "", nil)
		if got.status != 200 || !bytes.Equal(bytes.TrimSpace(got.body), bytes.TrimSpace(value)) {
			t.Fatalf("GET %q after PUT: %d %q, put %q", u, got.status, got.body, value)
		}
		if d := e.do("bob", "DELETE", u, "", nil); d.status >= 300 {
			t.Fatalf("DELETE %q: %d %s", u, d.status, d.body)
		}
	})
}

// FuzzPushBody posts an arbitrary body with an arbitrary Content-Type as a
// push: every refusal is a 4xx with a code (422 for compile errors), never
// a 5xx.
func FuzzPushBody(f *testing.F) {
	e := newEnv(f, server.Config{})
	good := archive(f, helloPlugin("com.example.pushfuzz", "1.0.0"))
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	fw, _ := mw.CreateFormFile("plugin", "plugin.tar.gz")
	fw.Write(good)
	mw.Close()
	ct, mpb := mw.FormDataContentType(), mp.Bytes()
	f.Add("application/gzip", good)
	f.Add(ct, mpb)
	f.Add("multipart/form-data; boundary=", []byte("--\r\n"))
	f.Add("multipart/form-data; boundary=x", []byte("--x\r\nContent-Disposition: form-data; name=\"plugin\"\r\n\r\n\x1f\x8b\r\n--x--\r\n"))
	f.Add("application/gzip; charset=\"", []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff})
	f.Fuzz(func(t *testing.T, ctype string, body []byte) {
		e := e.in(t)
		if !validHeader(ctype) {
			return // net/http would not send it
		}
		r := e.do("dev", "POST", "/api/v1/plugins", ctype, bytes.NewReader(body))
		switch {
		case r.status >= 500:
			t.Fatalf("%d %s", r.status, r.body)
		case r.status >= 400:
			r.errorCode(t)
		case r.status != 200 && r.status != 201:
			t.Fatalf("%d %s", r.status, r.body)
		}
	})
}

// FuzzBundleName asks for /bundles/<name>: unknown names are 4xx, and a
// 200 is the artifact whose SHA-256 the name carries, or the source map
// whose key it carries.
func FuzzBundleName(f *testing.F) {
	e := newEnv(f, server.Config{})
	r := e.push("dev", helloPlugin("com.example.bundlefuzz", "1.0.0"))
	if r.status != 201 {
		f.Fatal(r.status, string(r.body))
	}
	e.waitIdle() // the source maps
	type bundle struct{ URL, SHA256 string }
	var pushed struct{ Bundles map[string]bundle }
	cat := e.do("dev", "GET", "/api/v1/plugins/com.example.bundlefuzz", "", nil)
	var plugin struct {
		Versions []struct{ Bundles map[string]bundle }
	}
	if err := json.Unmarshal(cat.body, &plugin); err != nil || len(plugin.Versions) != 1 {
		f.Fatal(err, string(cat.body))
	}
	pushed.Bundles = plugin.Versions[0].Bundles
	var known []string
	byKey := map[string]string{} // a map's key -> its SHA-256
	for _, b := range pushed.Bundles {
		name := strings.TrimPrefix(b.URL, "/bundles/")
		known = append(known, name)
		if stem, _, _ := strings.Cut(name, "."); stem != b.SHA256 {
			byKey[stem] = b.SHA256
		}
	}
	if len(byKey) != 2 {
		f.Fatalf("want the two source maps named by key, got %v in %s", byKey, cat.body)
	}
	for _, k := range known {
		f.Add(k)
		f.Add(strings.ToUpper(k))
		f.Add(k + ".gz")
	}
	f.Add("..%2fplugin.json")
	f.Add(strings.Repeat("a", 64) + ".js")
	f.Fuzz(func(t *testing.T, name string) {
		if name == "" || strings.Contains(name, "/") {
			return // another route (the webapp's pages under /{team}/...)
		}
		e := e.in(t)
		u := (&url.URL{Path: "/bundles/" + name}).EscapedPath()
		r := e.do("", "GET", u, "", nil)
		switch {
		case r.status >= 500:
			t.Fatalf("GET %q: %d %s", u, r.status, r.body)
		case r.status == 200:
			sum := sha256.Sum256(r.body)
			stem, _, _ := strings.Cut(name, ".")
			if sha, ok := byKey[stem]; ok && strings.HasSuffix(name, ".map") {
				stem = sha
			}
			if stem != hex.EncodeToString(sum[:]) {
				t.Fatalf("GET %q: 200 with bytes hashing to %x", u, sum)
			}
		}
	})
}

// in is the env reporting to t: a fuzz target must not use the F.
func (e *env) in(t testing.TB) *env {
	c := *e
	c.t = t
	return &c
}

func validHeader(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}
