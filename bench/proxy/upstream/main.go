// Command upstream is the stand-in Mattermost of bench/proxy: it answers
// every request with the same small JSON body (about 200 bytes, the size of
// a typical Mattermost status or preference answer), so that the benchmark
// measures the proxies in front of it, not the upstream.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"strconv"
)

// body is a Mattermost-shaped answer of 200 bytes.
var body = []byte(`{"id":"s36pyg4oqtfftpt6hrnxbydbze","username":"user1","roles":"system_user",` +
	`"status":"online","manual":false,"last_activity_at":1795479713310,"active_channel":"yj8auysxu7fdin795hffuc1bra","x":"pad"}` + "\n")

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "address to listen on")
	flag.Parse()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	length := strconv.Itoa(len(body))
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd["Content-Type"] = []string{"application/json"}
		hd["Content-Length"] = []string{length}
		w.Write(body)
	})
	fmt.Fprintf(os.Stdout, "listening on http://%s (%d-byte answers)\n", ln.Addr(), len(body))
	log.Fatal(http.Serve(ln, h))
}
