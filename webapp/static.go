package webapp

import (
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
)

// serveStatic serves a host asset by its content-hashed name: immutable for
// a year, brotli or gzip as precompressed by the build when the client
// accepts it.
func (h *Host) serveStatic(w http.ResponseWriter, r *http.Request) {
	if h.err != nil {
		http.Error(w, h.err.Error(), http.StatusServiceUnavailable)
		return
	}
	name := strings.TrimPrefix(r.URL.Path, "/static/")
	if name == "" || strings.Contains(name, "/") || !fs.ValidPath(name) || strings.HasSuffix(name, ".gz") || strings.HasSuffix(name, ".br") {
		notFound(w)
		return
	}
	file := "static/" + name
	data, err := fs.ReadFile(h.assets, file)
	if err != nil {
		notFound(w)
		return
	}
	hdr := w.Header()
	ctype := mime.TypeByExtension(path.Ext(name))
	if strings.HasSuffix(name, ".map") {
		ctype = "application/json"
	}
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	hdr.Set("Content-Type", ctype)
	hdr.Set("Cache-Control", "public, max-age=31536000, immutable")
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Vary", "Accept-Encoding")
	for _, enc := range acceptable(r.Header.Get("Accept-Encoding")) {
		ext := map[string]string{"br": ".br", "gzip": ".gz"}[enc]
		if b, err := fs.ReadFile(h.assets, file+ext); err == nil {
			hdr.Set("Content-Encoding", enc)
			data = b
			break
		}
	}
	hdr.Set("Content-Length", strconv.Itoa(len(data)))
	if r.Method == http.MethodHead {
		return
	}
	w.Write(data)
}

func notFound(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-cache")
	http.Error(w, "no such host asset: asset names change with every build, take them from the page", http.StatusNotFound)
}

// acceptable lists the precompressed codings the client accepts, best
// first: br, then gzip. A q=0 refuses a coding.
func acceptable(header string) []string {
	ok := map[string]bool{}
	for _, part := range strings.Split(header, ",") {
		fields := strings.Split(strings.TrimSpace(part), ";")
		coding := strings.ToLower(strings.TrimSpace(fields[0]))
		refused := false
		for _, p := range fields[1:] {
			p = strings.ReplaceAll(strings.TrimSpace(p), " ", "")
			if q, found := strings.CutPrefix(p, "q="); found {
				if v, err := strconv.ParseFloat(q, 64); err == nil && v == 0 {
					refused = true
				}
			}
		}
		if !refused && (coding == "br" || coding == "gzip") {
			ok[coding] = true
		}
	}
	var out []string
	for _, c := range []string{"br", "gzip"} {
		if ok[c] {
			out = append(out, c)
		}
	}
	return out
}
