package server_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mmtoolkit/mmtoolkit/bundler/pluginpkg"
	"github.com/mmtoolkit/mmtoolkit/registry/registrytest"
	"github.com/mmtoolkit/mmtoolkit/server"
)

// Resource budgets (issue #15 F03, F09): what pushes may hold in memory at
// once and what one developer's versions may store. A future change of the
// push path must keep these passing.

// slowPush is a push sent by hand with a chunked body (no Content-Length,
// so the server reserves the whole body limit), stopped after its first
// chunk until finish sends the rest.
type slowPush struct {
	t    *testing.T
	conn net.Conn
	rest []byte
	resp chan response
}

func startSlowPush(t *testing.T, e *env, pkg []byte) *slowPush {
	t.Helper()
	addr := strings.TrimPrefix(e.url, "http://")
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	fmt.Fprintf(c, "POST /api/v1/plugins HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: application/gzip\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n",
		addr, e.tokens["dev"], 10, pkg[:10])
	p := &slowPush{t: t, conn: c, rest: pkg[10:], resp: make(chan response, 1)}
	go func() {
		c.SetReadDeadline(time.Now().Add(60 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			p.resp <- response{status: -1, body: []byte(err.Error())}
			return
		}
		body, _ := io.ReadAll(resp.Body)
		p.resp <- response{resp.StatusCode, resp.Header, body}
	}()
	return p
}

// finish sends the rest of the body and returns the answer.
func (p *slowPush) finish() response {
	p.t.Helper()
	fmt.Fprintf(p.conn, "%x\r\n%s\r\n0\r\n\r\n", len(p.rest), p.rest)
	return <-p.resp
}

// waitFor polls cond until it holds (10 s at most).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("still waiting for %s after 10 s", what)
		}
	}
}

// wantBudgetExhausted checks a push_budget_exhausted answer.
func wantBudgetExhausted(t *testing.T, r response) {
	t.Helper()
	if r.status != http.StatusServiceUnavailable || r.errorCode(t) != "push_budget_exhausted" {
		t.Fatalf("got %d %s, want 503 push_budget_exhausted", r.status, r.body)
	}
	if r.header.Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
	msg := r.json(t)["error"].(map[string]any)["message"].(string)
	if !strings.Contains(msg, "retry") {
		t.Errorf("message %q does not say to retry", msg)
	}
}

// TestPushBudget is F03: nothing bounded how many large archives were read
// at once (MaxCompiles counts only after reading), so three parallel
// pushes took 2.1 GB. Pushes in flight now reserve what they may hold; the
// next one past the budget is refused at once with 503 and Retry-After,
// and once the others finish a push goes through.
func TestPushBudget(t *testing.T) {
	t.Parallel()
	lim := pluginpkg.Limits{MaxArchiveBytes: 1 << 20, MaxUnpackedBytes: 2 << 20}
	const body = 2 << 20 // the archive limit and 1 MiB for multipart fields
	e := newEnv(t, server.Config{Limits: lim, PushBudgetBytes: 3 * body})

	var slow []*slowPush
	for i := range 3 {
		slow = append(slow, startSlowPush(t, e, archive(t, helloPlugin(fmt.Sprintf("com.example.slow%d", i), "1.0.0"))))
	}
	waitFor(t, "three pushes in flight", func() bool { return e.srv.PushBudgetInFlight() == 3*body })

	wantBudgetExhausted(t, e.push("dev", helloPlugin("com.example.next", "1.0.0")))

	var wg sync.WaitGroup
	for _, p := range slow {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if r := p.finish(); r.status != http.StatusCreated {
				t.Errorf("slow push: %d %s", r.status, r.body)
			}
		}()
	}
	wg.Wait()
	waitFor(t, "the budget released", func() bool { return e.srv.PushBudgetInFlight() == 0 })
	if r := e.push("dev", helloPlugin("com.example.next", "1.0.0")); r.status != http.StatusCreated {
		t.Fatalf("after the others: %d %s", r.status, r.body)
	}
}

// TestPushBudgetCountsUnpackedBytes: a push's Content-Length is not what it
// holds: a few kilobytes may unpack to the unpacked limit. What the archive
// keeps is charged as it is read, so a small upload that unpacks past the
// room left is refused the same way, and goes through once there is room.
func TestPushBudgetCountsUnpackedBytes(t *testing.T) {
	t.Parallel()
	lim := pluginpkg.Limits{MaxArchiveBytes: 1 << 20, MaxUnpackedBytes: 4 << 20}
	e := newEnv(t, server.Config{Limits: lim, PushBudgetBytes: 5 << 20})
	files := helloPlugin("com.example.packed", "1.0.0")
	files["assets/data.txt"] = strings.Repeat("a", 7<<19) // 3.5 MiB, a few KiB compressed
	packed := archive(t, files)
	if len(packed) > 64<<10 {
		t.Fatalf("archive of %d bytes, want a small one", len(packed))
	}

	slow := startSlowPush(t, e, archive(t, helloPlugin("com.example.slow", "1.0.0")))
	waitFor(t, "a push in flight", func() bool { return e.srv.PushBudgetInFlight() == 2<<20 })
	wantBudgetExhausted(t, e.push("dev", files))
	if r := slow.finish(); r.status != http.StatusCreated {
		t.Fatalf("slow push: %d %s", r.status, r.body)
	}
	waitFor(t, "the budget released", func() bool { return e.srv.PushBudgetInFlight() == 0 })
	if r := e.push("dev", files); r.status != http.StatusCreated {
		t.Fatalf("with room: %d %s", r.status, r.body)
	}
	if n := e.srv.PushBudgetInFlight(); n != 0 {
		t.Errorf("%d bytes still reserved after the pushes", n)
	}
}

// TestPushBudgetMustHoldTheLargestPush: a budget below what one push may
// hold would refuse such a push for ever; the server does not start.
func TestPushBudgetMustHoldTheLargestPush(t *testing.T) {
	t.Parallel()
	_, err := server.New(registrytest.Open(t), nil, server.Config{PushBudgetBytes: 100 << 20})
	if err == nil || !strings.Contains(err.Error(), "push budget") {
		t.Fatalf("error %v, want one about the push budget", err)
	}
}

// prebuilt is a Mattermost-style plugin whose bundle is size bytes.
func prebuilt(id, version string, size int) map[string]string {
	return map[string]string{
		"plugin.json":         `{"id":"` + id + `","name":"Prebuilt","version":"` + version + `","webapp":{"bundle_path":"webapp/dist/main.js"}}`,
		"webapp/dist/main.js": fmt.Sprintf("window.registerPlugin(%q, {initialize: function(){}});/*%s*/", id, strings.Repeat("x", size)),
	}
}

// TestPrebuiltBundleSizeLimit is F09's first half: a prebuilt bundle was
// stored as it was, up to 300 MiB. It is held to Limits.MaxBundleBytes
// (20 MiB by default, mmtoolkit serve --bundle-limit-mib), answered 413
// bundle_too_large with the limit.
func TestPrebuiltBundleSizeLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{Limits: pluginpkg.Limits{MaxBundleBytes: 100 << 10}})
	r := e.push("dev", prebuilt("com.example.big", "1.0.0", 200<<10))
	if r.status != http.StatusRequestEntityTooLarge || r.errorCode(t) != "bundle_too_large" {
		t.Fatalf("got %d %s, want 413 bundle_too_large", r.status, r.body)
	}
	if got := r.json(t)["error"].(map[string]any)["limit"]; got != float64(100<<10) {
		t.Errorf("limit %v, want %d", got, 100<<10)
	}
	if r := e.push("dev", prebuilt("com.example.big", "1.0.0", 50<<10)); r.status != http.StatusCreated {
		t.Fatalf("under the limit: %d %s", r.status, r.body)
	}
}

// TestOwnerStorageQuota is F09's second half: nothing bounded what one
// developer's versions store. A push that takes the owner's versions past
// Config.OwnerQuotaBytes is answered 507 storage_quota_exceeded with the
// limit, whoever pushes it (a system admin pushing the owner's plugin
// too); other owners are not affected.
func TestOwnerStorageQuota(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{OwnerQuotaBytes: 1 << 20})
	for _, v := range []string{"1.0.0", "1.0.1"} {
		if r := e.push("dev", prebuilt("com.example.quota", v, 400<<10)); r.status != http.StatusCreated {
			t.Fatalf("push %s: %d %s", v, r.status, r.body)
		}
	}
	for _, who := range []string{"dev", "admin"} {
		r := e.push(who, prebuilt("com.example.quota", "1.0.2", 400<<10))
		if r.status != http.StatusInsufficientStorage || r.errorCode(t) != "storage_quota_exceeded" {
			t.Fatalf("%s's push past the quota: %d %s, want 507 storage_quota_exceeded", who, r.status, r.body)
		}
		body := r.json(t)["error"].(map[string]any)
		if body["limit"] != float64(1<<20) || body["used"].(float64) < 800<<10 {
			t.Errorf("limit %v used %v, want the quota and the two versions", body["limit"], body["used"])
		}
	}
	if r := e.push("alice", prebuilt("com.example.other", "1.0.0", 400<<10)); r.status != http.StatusCreated {
		t.Fatalf("another owner: %d %s", r.status, r.body)
	}
	// A small version still fits in what is left.
	if r := e.push("dev", prebuilt("com.example.quota", "1.0.2", 10<<10)); r.status != http.StatusCreated {
		t.Fatalf("a version that fits: %d %s", r.status, r.body)
	}
}

// TestMultipartFieldsAreBounded: fields of a multipart push other than
// plugin and signature are skipped, but each costs a header's parsing and
// nothing counted them, so 100,000 empty fields in front of the archive
// were read through. A form may have 16 fields.
func TestMultipartFieldsAreBounded(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{})
	form := func(fields int) (string, io.Reader) {
		var buf strings.Builder
		for i := range fields {
			fmt.Fprintf(&buf, "--b\r\nContent-Disposition: form-data; name=\"f%d\"\r\n\r\n\r\n", i)
		}
		buf.WriteString("--b\r\nContent-Disposition: form-data; name=\"plugin\"; filename=\"p.tar.gz\"\r\nContent-Type: application/gzip\r\n\r\n")
		buf.Write(archive(t, helloPlugin("com.example.form", "1.0.0")))
		buf.WriteString("\r\n--b--\r\n")
		return "multipart/form-data; boundary=b", strings.NewReader(buf.String())
	}
	ct, body := form(100_000)
	r := e.do("dev", "POST", "/api/v1/plugins", ct, body)
	if r.status != http.StatusBadRequest || r.errorCode(t) != "bad_multipart" {
		t.Fatalf("100,000 fields: %d %s, want 400 bad_multipart", r.status, r.body)
	}
	ct, body = form(14) // with plugin: 15 fields
	if r := e.do("dev", "POST", "/api/v1/plugins", ct, body); r.status != http.StatusCreated {
		t.Fatalf("15 fields: %d %s", r.status, r.body)
	}
}
