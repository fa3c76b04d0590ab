package mobile

import (
	"embed"
	"io/fs"
)

// previewDist is the /mobile-preview app (mobile/preview, built by
// `node preview/build.mjs`, which make build runs): the host library with
// react-native-web. A binary built without it serves a page saying so.
//
//go:embed all:preview/dist
var previewDist embed.FS

// PreviewScript returns the preview app's JavaScript, or false when the
// binary was built before it (go build without make).
func PreviewScript() ([]byte, bool) {
	b, err := fs.ReadFile(previewDist, "preview/dist/preview.js")
	return b, err == nil
}
