package pluginpkg_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"testing"

	"github.com/mmtoolkit/mmtoolkit/bundler/pluginpkg"
)

// entry is one tar entry a test archive holds.
type entry struct {
	name string
	typ  byte // tar.TypeReg when zero
	body string
	link string
	// global makes the entry a PAX global header (as git archive writes).
	global bool
	// format forces a tar header format (GNU, PAX) for long-name cases.
	format tar.Format
}

func file(name, body string) entry { return entry{name: name, body: body} }
func dir(name string) entry        { return entry{name: name, typ: tar.TypeDir} }

// buildTar writes entries as an uncompressed tar. With end false the tar
// stops without its end-of-archive marker, as a cut-off stream does.
func buildTar(tb testing.TB, entries []entry, end bool) []byte {
	tb.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		hdr := &tar.Header{Name: e.name, Typeflag: e.typ, Mode: 0o644, Linkname: e.link, Format: e.format}
		switch {
		case e.global:
			hdr = &tar.Header{Typeflag: tar.TypeXGlobalHeader, PAXRecords: map[string]string{"comment": "0123456789abcdef"}}
		case e.typ == 0:
			hdr.Typeflag = tar.TypeReg
			hdr.Size = int64(len(e.body))
		}
		if err := tw.WriteHeader(hdr); err != nil {
			tb.Fatalf("tar header %q: %v", e.name, err)
		}
		if hdr.Typeflag == tar.TypeReg {
			if _, err := tw.Write([]byte(e.body)); err != nil {
				tb.Fatalf("tar body %q: %v", e.name, err)
			}
		}
	}
	if end {
		if err := tw.Close(); err != nil {
			tb.Fatalf("tar close: %v", err)
		}
	} else if err := tw.Flush(); err != nil {
		tb.Fatalf("tar flush: %v", err)
	}
	return buf.Bytes()
}

// gz compresses data.
func gz(tb testing.TB, data []byte) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(data); err != nil {
		tb.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func tarGz(tb testing.TB, entries ...entry) []byte {
	tb.Helper()
	return gz(tb, buildTar(tb, entries, true))
}

// manifest returns a valid plugin.json with fields changed: each pair is a
// key and a value, and a nil value removes the key.
func manifest(kv ...any) string {
	m := map[string]any{
		"id":      "com.example.map",
		"name":    "Map",
		"version": "1.2.0",
		"webapp":  map[string]any{"entry": "webapp/index.tsx"},
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(m, kv[i].(string))
		} else {
			m[kv[i].(string)] = kv[i+1]
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// knownSlots stands in for the slot catalogue.
func knownSlots(name string) bool {
	switch name {
	case "post_type", "channel_header_button", "app_bar", "root":
		return true
	}
	return false
}

// wantError checks that err is a *pluginpkg.Error with the given code and,
// when not empty, file and field.
func wantError(tb testing.TB, err error, code, file, field string) *pluginpkg.Error {
	tb.Helper()
	var e *pluginpkg.Error
	if !errors.As(err, &e) {
		tb.Fatalf("error = %v (%T), want *pluginpkg.Error with code %s", err, err, code)
	}
	if e.Code != code {
		tb.Fatalf("code = %s, want %s (message: %s)", e.Code, code, e.Message)
	}
	if file != "" && e.File != file {
		tb.Errorf("file = %q, want %q (message: %s)", e.File, file, e.Message)
	}
	if field != "" && e.Field != field {
		tb.Errorf("field = %q, want %q (message: %s)", e.Field, field, e.Message)
	}
	if e.Message == "" {
		tb.Error("empty message")
	}
	return e
}
