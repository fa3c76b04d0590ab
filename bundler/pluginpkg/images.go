package pluginpkg

import (
	"bytes"
	"fmt"
	"path"
	"strings"
)

// Image limits: the directory shows an icon and a few screenshots, not a
// gallery.
const (
	MaxScreenshots     = 8
	MaxIconBytes       = 1 << 20
	MaxScreenshotBytes = 5 << 20
)

// Image content types, by file extension. The extension must agree with the
// bytes (ImageType), so a server can serve a stored image with the type its
// name promises.
var imageTypes = map[string]string{
	".png":  "image/png",
	".jpg":  "image/jpeg",
	".jpeg": "image/jpeg",
	".webp": "image/webp",
	".svg":  "image/svg+xml",
}

// ImageType returns the content type of an icon or screenshot: its extension
// names the type (.png, .jpg/.jpeg, .webp, .svg) and its bytes must be an
// image of that type. Anything else is a CodeImageInvalid *Error naming field.
func ImageType(field, name string, data []byte) (string, error) {
	ext := strings.ToLower(path.Ext(name))
	want, ok := imageTypes[ext]
	if !ok {
		return "", &Error{Code: CodeImageInvalid, File: name, Field: field,
			Message: fmt.Sprintf("%s: %s is not an image the directory shows; use .png, .jpg, .webp or .svg", field, name)}
	}
	if got := sniffImage(data); got != want {
		what := "not an image"
		if got != "" {
			what = "a " + got + " image"
		}
		return "", &Error{Code: CodeImageInvalid, File: name, Field: field,
			Message: fmt.Sprintf("%s: %s is %s, but its extension says %s; export it in that format or rename it", field, name, what, want)}
	}
	return want, nil
}

// sniffImage recognises the four image formats by their first bytes; SVG is
// XML whose root element is <svg>. It returns "" for anything else.
func sniffImage(b []byte) string {
	switch {
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return "image/png"
	case bytes.HasPrefix(b, []byte("\xff\xd8\xff")):
		return "image/jpeg"
	case len(b) >= 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "WEBP":
		return "image/webp"
	case isSVG(b):
		return "image/svg+xml"
	}
	return ""
}

// isSVG skips a BOM, white space, an XML declaration, comments and a
// doctype, and then wants the <svg element.
func isSVG(b []byte) bool {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	for i := 0; i < 16; i++ { // a bounded number of prolog items
		b = bytes.TrimLeft(b, " \t\r\n")
		var end []byte
		switch {
		case bytes.HasPrefix(b, []byte("<?")):
			end = []byte("?>")
		case bytes.HasPrefix(b, []byte("<!--")):
			end = []byte("-->")
		case bytes.HasPrefix(b, []byte("<!")):
			end = []byte(">")
		default:
			return bytes.HasPrefix(b, []byte("<svg")) && len(b) > 4 &&
				(b[4] == ' ' || b[4] == '>' || b[4] == '/' || b[4] == '\t' || b[4] == '\n' || b[4] == '\r')
		}
		i := bytes.Index(b, end)
		if i < 0 {
			return false
		}
		b = b[i+len(end):]
	}
	return false
}

// checkScreenshots checks the manifest's screenshots list on its own: a few
// clean relative paths with an image extension, none twice.
func checkScreenshots(list []string) error {
	if len(list) > MaxScreenshots {
		e := invalid("screenshots", "has %d entries; at most %d screenshots are shown", len(list), MaxScreenshots)
		e.Limit = MaxScreenshots
		return e
	}
	seen := map[string]bool{}
	for i := range list {
		field := fmt.Sprintf("screenshots[%d]", i)
		if err := checkRelPath(field, &list[i]); err != nil {
			return err
		}
		if _, ok := imageTypes[strings.ToLower(path.Ext(list[i]))]; !ok {
			return invalid(field, "%q is not an image the directory shows; use .png, .jpg, .webp or .svg", list[i])
		}
		if seen[list[i]] {
			return invalid(field, "%q is listed twice", list[i])
		}
		seen[list[i]] = true
	}
	return nil
}

// checkImages checks the icon and screenshots a package carries: their
// sizes and that each is an image of the type its extension names.
func checkImages(m *Manifest, files map[string][]byte) error {
	check := func(field, name string, limit int64) error {
		data := files[name]
		if int64(len(data)) > limit {
			return &Error{Code: CodeImageTooLarge, File: name, Field: field, Limit: limit,
				Message: fmt.Sprintf("%s: %s is %d bytes; the limit is %d KiB: make it smaller", field, name, len(data), limit>>10)}
		}
		_, err := ImageType(field, name, data)
		return err
	}
	if m.IconPath != "" {
		if err := check("icon_path", m.IconPath, MaxIconBytes); err != nil {
			return err
		}
	}
	for i, s := range m.Screenshots {
		if err := check(fmt.Sprintf("screenshots[%d]", i), s, MaxScreenshotBytes); err != nil {
			return err
		}
	}
	return nil
}
