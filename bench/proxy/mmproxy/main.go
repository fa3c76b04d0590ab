// Command mmproxy serves apiv4proxy.NewProxy alone, with its defaults, so
// bench/proxy measures the proxy without authentication or routing.
// With -impl stdlib it serves net/http/httputil.ReverseProxy instead, tuned
// as far as its options go, for comparison.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	_ "net/http/pprof" // on -pprof's listener only
	"net/url"
	"os"
	"sync"
	"time"

	apiv4proxy "github.com/mmtoolkit/mmtoolkit/apiv4-proxy"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "address to listen on")
	upstream := flag.String("upstream", "", "upstream base URL")
	impl := flag.String("impl", "mmtoolkit", "mmtoolkit (apiv4proxy.NewProxy) or stdlib (tuned httputil.ReverseProxy)")
	pprofAddr := flag.String("pprof", "", "serve net/http/pprof on this address (for run.sh PROFILE=1)")
	flag.Parse()
	if *pprofAddr != "" {
		pl, err := net.Listen("tcp", *pprofAddr)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Fprintf(os.Stdout, "pprof on http://%s\n", pl.Addr())
		go http.Serve(pl, http.DefaultServeMux)
	}
	var h http.Handler
	switch *impl {
	case "mmtoolkit":
		p, err := apiv4proxy.NewProxy(*upstream, apiv4proxy.ProxyOptions{})
		if err != nil {
			log.Fatal(err)
		}
		h = p
	case "stdlib":
		h = stdlibProxy(*upstream)
	default:
		log.Fatalf("unknown -impl %q", *impl)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	// The same server settings as `mmtoolkit serve`.
	hs := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       5 * time.Minute,
		WriteTimeout:      5 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
	fmt.Fprintf(os.Stdout, "serving on http://%s -> %s (%s)\n", ln.Addr(), *upstream, *impl)
	log.Fatal(hs.Serve(ln))
}

// stdlibProxy is httputil.ReverseProxy with the tuning the proxy issue
// lists: many idle connections per host, no compression, HTTP/1.1, pooled
// copy buffers.
func stdlibProxy(upstream string) http.Handler {
	u, err := url.Parse(upstream)
	if err != nil {
		log.Fatal(err)
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = nil
	t.MaxIdleConns = 0
	t.MaxIdleConnsPerHost = 256
	t.DisableCompression = true
	t.ForceAttemptHTTP2 = false
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(u)
			pr.SetXForwarded()
		},
		Transport:  t,
		BufferPool: &bufferPool{p: sync.Pool{New: func() any { return make([]byte, 32<<10) }}},
	}
}

type bufferPool struct{ p sync.Pool }

func (b *bufferPool) Get() []byte  { return b.p.Get().([]byte) }
func (b *bufferPool) Put(v []byte) { b.p.Put(v) }
