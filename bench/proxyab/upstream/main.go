// Command upstream is the stand-in Mattermost of bench/proxyab: unlike
// bench/proxy's upstream, which answers in microseconds so that the proxy
// is all there is to measure, it spends on every request what Mattermost
// spends on a cheap authenticated GET, at least -cpu of CPU (200 us by
// default), in real work: it JSON-encodes a users/me answer and hashes it
// in a loop, calibrated at start on this machine. The answer is a
// users/me-sized JSON body (about 700 bytes) with Mattermost's headers.
//
// GET /_stats answers "requests cpu_seconds" (the process's user + system
// CPU time), so the benchmark can report the CPU each request really cost.
package main

import (
	"crypto/sha256"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"
)

// user is Mattermost's users/me answer (the fields of a real one, see
// Mattermost's model.User), encoded anew for every request as Mattermost
// does.
type user struct {
	ID                 string            `json:"id"`
	CreateAt           int64             `json:"create_at"`
	UpdateAt           int64             `json:"update_at"`
	DeleteAt           int64             `json:"delete_at"`
	Username           string            `json:"username"`
	AuthData           string            `json:"auth_data"`
	AuthService        string            `json:"auth_service"`
	Email              string            `json:"email"`
	Nickname           string            `json:"nickname"`
	FirstName          string            `json:"first_name"`
	LastName           string            `json:"last_name"`
	Position           string            `json:"position"`
	Roles              string            `json:"roles"`
	NotifyProps        map[string]string `json:"notify_props"`
	LastPasswordUpdate int64             `json:"last_password_update"`
	FailedAttempts     int               `json:"failed_attempts"`
	Locale             string            `json:"locale"`
	Timezone           map[string]string `json:"timezone"`
	DisableWelcome     bool              `json:"disable_welcome_email"`
}

var me = user{
	ID: "s36pyg4oqtfftpt6hrnxbydbze", CreateAt: 1795479712335, UpdateAt: 1795479713310,
	Username: "user1", Email: "user1@example.com", FirstName: "User", LastName: "One",
	Position: "engineer", Roles: "system_user",
	NotifyProps: map[string]string{"channel": "true", "comments": "never", "desktop": "mention",
		"desktop_sound": "true", "email": "true", "first_name": "false", "mention_keys": "",
		"push": "mention", "push_status": "away", "auto_responder_active": "false",
		"auto_responder_message": "Hello, I am out of office and unable to respond to messages."},
	LastPasswordUpdate: 1795479712335, FailedAttempts: 1, Locale: "en",
	Timezone: map[string]string{"automaticTimezone": "Europe/Berlin", "manualTimezone": "", "useAutomaticTimezone": "true"},
}

// work encodes the answer and hashes it rounds times; it returns the
// answer and a digest (sent as the ETag, so the work cannot be skipped).
func work(rounds int) ([]byte, [32]byte) {
	b, err := json.Marshal(me)
	if err != nil {
		panic(err)
	}
	sum := sha256.Sum256(b)
	for i := 1; i < rounds; i++ {
		sum = sha256.Sum256(append(b[:len(b):len(b)], sum[:]...))
	}
	return append(b, '\n'), sum
}

// calibrate finds the rounds that take target on one core: the fastest of
// several trials, so that other work on a busy machine does not inflate it
// (a trial's wall time is at least its CPU time).
func calibrate(target time.Duration) int {
	const probe = 2000
	best := time.Duration(1 << 62)
	for range 15 {
		start := time.Now()
		work(probe)
		if d := time.Since(start); d < best {
			best = d
		}
	}
	return max(1, int(float64(probe)*float64(target)/float64(best)))
}

func cpuSeconds() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return tv(ru.Utime) + tv(ru.Stime)
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "address to listen on")
	cpu := flag.Duration("cpu", 200*time.Microsecond, "CPU to spend per request")
	flag.Parse()
	rounds := calibrate(*cpu)
	var served atomic.Int64
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/_stats" {
			fmt.Fprintf(w, "%d %.6f\n", served.Load(), cpuSeconds())
			return
		}
		body, sum := work(rounds)
		served.Add(1)
		hd := w.Header()
		hd["Content-Type"] = []string{"application/json"}
		hd["Content-Length"] = []string{strconv.Itoa(len(body))}
		hd["Etag"] = []string{fmt.Sprintf("%x", sum[:8])}
		hd["Vary"] = []string{"Accept-Encoding"}
		hd["X-Request-Id"] = []string{"gp9jnib3dbgkjjmt8iuh38p7bw"}
		hd["X-Version-Id"] = []string{"10.5.0.10.5.0.09ad4daad953e5f4cd51a42815382c76.false"}
		w.Write(body)
	})
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	body, _ := work(1)
	fmt.Fprintf(os.Stdout, "listening on http://%s (%d-byte answers, %d hash rounds for %s)\n", ln.Addr(), len(body), rounds, *cpu)
	log.Fatal(http.Serve(ln, h))
}
