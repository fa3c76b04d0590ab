package console

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"net/http"
	"strconv"
)

//go:embed console.css
var css []byte

// cssPath serves the stylesheet; cssURL names it with its hash, so the
// response is cached for good and a new build is fetched at once.
const cssPath = "/admin/console.css"

var cssURL = func() string {
	sum := sha256.Sum256(css)
	return cssPath + "?v=" + hex.EncodeToString(sum[:6])
}()

func serveCSS(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/css; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(css)))
	h.Set("X-Content-Type-Options", "nosniff")
	if r.URL.RawQuery != "" {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	w.Write(css)
}
