// Command gofloor serves the files of a directory from memory with nothing
// but the standard library's net/http: a strong ETag and 304 on
// If-None-Match, the precompressed NAME.gz for clients accepting gzip,
// Content-Length always. It is the floor under bench/serving's comparison:
// what any Go server pays for a request on this machine, so that the gap
// between mmtoolkit and nginx splits into net/http's share and mmtoolkit's
// own (routing, authentication, metrics, its handlers).
//
//	gofloor -root DIR   # prints "serving on http://127.0.0.1:PORT"
package main

import (
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

type file struct {
	body, gz []byte
	etag     []string
	size     []string
	gzSize   []string
}

func main() {
	root := flag.String("root", "", "directory whose files are served (required)")
	addr := flag.String("addr", "127.0.0.1:0", "address to listen on")
	flag.Parse()
	if *root == "" {
		flag.Usage()
		os.Exit(2)
	}
	files, err := load(*root)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gofloor:", err)
		os.Exit(1)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gofloor:", err)
		os.Exit(1)
	}
	fmt.Printf("serving on http://%s\n", ln.Addr())
	err = http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h["Etag"] = f.etag
		if r.Header.Get("If-None-Match") == f.etag[0] {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		body, size := f.body, f.size
		if f.gz != nil && strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			body, size = f.gz, f.gzSize
			h["Content-Encoding"] = []string{"gzip"}
		}
		h["Content-Length"] = size
		w.Write(body)
	}))
	fmt.Fprintln(os.Stderr, "gofloor:", err)
	os.Exit(1)
}

// load reads every regular file of root; NAME.gz becomes NAME's gzip variant.
func load(root string) (map[string]*file, error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, err
	}
	files := map[string]*file{}
	for _, e := range entries {
		if !e.Type().IsRegular() || strings.HasSuffix(e.Name(), ".gz") {
			continue
		}
		body, err := os.ReadFile(filepath.Join(root, e.Name()))
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(body)
		f := &file{body: body, etag: []string{`"` + hex.EncodeToString(sum[:8]) + `"`}, size: []string{strconv.Itoa(len(body))}}
		if gz, err := os.ReadFile(filepath.Join(root, e.Name()+".gz")); err == nil {
			f.gz, f.gzSize = gz, []string{strconv.Itoa(len(gz))}
		}
		files["/"+e.Name()] = f
	}
	return files, nil
}
