package pluginpkg_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/mmtoolkit/mmtoolkit/bundler/pluginpkg"
)

const (
	pngBytes  = "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
	jpegBytes = "\xff\xd8\xff\xe0\x00\x10JFIF"
	webpBytes = "RIFF\x24\x00\x00\x00WEBPVP8 "
	svgBytes  = "<?xml version=\"1.0\"?>\n<!-- drawn by hand -->\n<!DOCTYPE svg>\n<svg xmlns=\"http://www.w3.org/2000/svg\"/>"
)

func TestImageType(t *testing.T) {
	for _, tc := range []struct {
		name, data, want string
	}{
		{"a.png", pngBytes, "image/png"},
		{"a.JPG", jpegBytes, "image/jpeg"},
		{"a.jpeg", jpegBytes, "image/jpeg"},
		{"a.webp", webpBytes, "image/webp"},
		{"a.svg", svgBytes, "image/svg+xml"},
		{"a.svg", "\xef\xbb\xbf<svg>", "image/svg+xml"},
		{"a.svg", "<svgx/>", ""},
		{"a.svg", "<html><svg/></html>", ""},
		{"a.png", jpegBytes, ""},
		{"a.gif", "GIF89a", ""},
		{"a.png", "", ""},
	} {
		got, err := pluginpkg.ImageType("icon_path", tc.name, []byte(tc.data))
		if got != tc.want {
			t.Errorf("ImageType(%s, %q) = %q, want %q", tc.name, tc.data, got, tc.want)
		}
		if tc.want == "" {
			wantError(t, err, pluginpkg.CodeImageInvalid, tc.name, "icon_path")
		}
	}
}

func TestPackageImages(t *testing.T) {
	web := file("webapp/index.tsx", entryTSX)
	shots := func(paths ...string) []any {
		out := []any{}
		for _, p := range paths {
			out = append(out, p)
		}
		return out
	}
	ok := tarGz(t, file("plugin.json", manifest("icon_path", "icon.svg", "screenshots", shots("s/1.png", "s/2.jpg", "s/3.webp"))), web,
		file("icon.svg", svgBytes), file("s/1.png", pngBytes), file("s/2.jpg", jpegBytes), file("s/3.webp", webpBytes))
	pkg, err := pluginpkg.ReadArchive(bytes.NewReader(ok), pluginpkg.Limits{}, knownSlots)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(pkg.Manifest.Screenshots, ","); got != "s/1.png,s/2.jpg,s/3.webp" {
		t.Errorf("screenshots = %s", got)
	}

	nine := make([]string, 9)
	for i := range nine {
		nine[i] = "s/" + string(rune('a'+i)) + ".png"
	}
	for _, tc := range []struct {
		name        string
		data        []byte
		code, field string
		limit       int64
	}{
		{name: "screenshot missing", data: tarGz(t, file("plugin.json", manifest("screenshots", shots("s/1.png"))), web),
			code: pluginpkg.CodeEntryMissing, field: "screenshots[0]"},
		{name: "screenshot not an image", data: tarGz(t, file("plugin.json", manifest("screenshots", shots("s/1.png"))), web, file("s/1.png", "<script>")),
			code: pluginpkg.CodeImageInvalid, field: "screenshots[0]"},
		{name: "screenshot extension", data: tarGz(t, file("plugin.json", manifest("screenshots", shots("s/1.gif"))), web, file("s/1.gif", "GIF89a")),
			code: pluginpkg.CodeManifestInvalid, field: "screenshots[0]"},
		{name: "screenshot traversal", data: tarGz(t, file("plugin.json", manifest("screenshots", shots("../1.png"))), web),
			code: pluginpkg.CodeManifestInvalid, field: "screenshots[0]"},
		{name: "screenshot twice", data: tarGz(t, file("plugin.json", manifest("screenshots", shots("1.png", "./1.png"))), web, file("1.png", pngBytes)),
			code: pluginpkg.CodeManifestInvalid, field: "screenshots[1]"},
		{name: "too many screenshots", data: tarGz(t, file("plugin.json", manifest("screenshots", shots(nine...))), web),
			code: pluginpkg.CodeManifestInvalid, field: "screenshots", limit: pluginpkg.MaxScreenshots},
		{name: "screenshot too large", data: tarGz(t, file("plugin.json", manifest("screenshots", shots("big.png"))), web,
			file("big.png", pngBytes+strings.Repeat("\x00", pluginpkg.MaxScreenshotBytes))),
			code: pluginpkg.CodeImageTooLarge, field: "screenshots[0]", limit: pluginpkg.MaxScreenshotBytes},
		{name: "icon too large", data: tarGz(t, file("plugin.json", manifest("icon_path", "icon.png")), web,
			file("icon.png", pngBytes+strings.Repeat("\x00", pluginpkg.MaxIconBytes))),
			code: pluginpkg.CodeImageTooLarge, field: "icon_path", limit: pluginpkg.MaxIconBytes},
		{name: "icon html in an svg", data: tarGz(t, file("plugin.json", manifest("icon_path", "icon.svg")), web, file("icon.svg", "<html><script>alert(1)</script>")),
			code: pluginpkg.CodeImageInvalid, field: "icon_path"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := pluginpkg.ReadArchive(bytes.NewReader(tc.data), pluginpkg.Limits{}, knownSlots)
			e := wantError(t, err, tc.code, "", tc.field)
			if e.Limit != tc.limit {
				t.Errorf("limit = %d, want %d", e.Limit, tc.limit)
			}
		})
	}
}
