package bundler

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// hermesForTest finds the project's hermesc (make mobile installs it).
// Outside CI a machine without it skips; under CI=true that is a failure, so
// a green CI always means bytecode was compiled.
func hermesForTest(t testing.TB) *Hermes {
	t.Helper()
	path, err := FindHermesc(os.Getenv("MMTOOLKIT_HERMESC"))
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("hermesc is required under CI=true: %v", err)
		}
		t.Skipf("skipping: %v", err)
	}
	h, err := NewHermes(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestBytecodeVersion(t *testing.T) {
	magic := []byte{0xc6, 0x1f, 0xbc, 0x03, 0xc1, 0x03, 0x19, 0x1f}
	tests := []struct {
		name string
		in   []byte
		want uint32
		err  error
	}{
		{"98", append(append([]byte{}, magic...), 98, 0, 0, 0, 1, 2), 98, nil},
		{"little endian", append(append([]byte{}, magic...), 0x01, 0x02, 0, 0), 0x0201, nil},
		{"short", magic, 0, ErrNotBytecode},
		{"empty", nil, 0, ErrNotBytecode},
		{"javascript", []byte("var a = 1; // not bytecode at all"), 0, ErrNotBytecode},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := BytecodeVersion(tc.in)
			if !errors.Is(err, tc.err) || got != tc.want {
				t.Fatalf("BytecodeVersion = %d, %v; want %d, %v", got, err, tc.want, tc.err)
			}
		})
	}
}

func TestFindHermescExplicitPath(t *testing.T) {
	if _, err := FindHermesc(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Fatal("a missing explicit path must be an error, not a silent fallback")
	}
	notExec := filepath.Join(t.TempDir(), "hermesc")
	os.WriteFile(notExec, []byte("#!/bin/sh\n"), 0o644)
	if _, err := FindHermesc(notExec); err == nil {
		t.Fatal("a file without the executable bit was accepted")
	}
}

func TestHermesCompilesMobileBundle(t *testing.T) {
	h := hermesForTest(t)
	if runtime.GOOS == "linux" && h.Version < 96 {
		t.Fatalf("hermesc emits bytecode %d; the pinned hermes-compiler emits 96 or later", h.Version)
	}
	res := mustBuild(t, loadFixture(t, "mobile"), Mobile)
	bc, err := h.Compile(context.Background(), res.JS)
	if err != nil {
		t.Fatal(err)
	}
	v, err := BytecodeVersion(bc.HBC)
	if err != nil || v != h.Version || bc.Version != h.Version {
		t.Fatalf("header version %d (%v), Bytecode.Version %d, hermesc emits %d", v, err, bc.Version, h.Version)
	}
	again, err := h.Compile(context.Background(), res.JS)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again.HBC, bc.HBC) {
		t.Error("compiling the same bundle twice gave different bytecode; artifacts are content-addressed and must be deterministic")
	}
	t.Logf("bytecode %d: %d bytes JS -> %d bytes HBC in %s", bc.Version, len(res.JS), len(bc.HBC), bc.Duration)
}

func TestHermesCompileErrorIsDiagnostic(t *testing.T) {
	h := hermesForTest(t)
	_, err := h.Compile(context.Background(), []byte("module.exports = 1;\nvar a = ;\n"))
	var ce *CompileError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want *CompileError", err)
	}
	if len(ce.Diagnostics) == 0 {
		t.Fatal("no diagnostics")
	}
	d := ce.Diagnostics[0]
	if d.File != "mobile.js" || d.Line != 2 || d.Column != 8 || !strings.Contains(d.Text, "hermesc") {
		t.Fatalf("diagnostic %+v, want mobile.js:2:9 in the bundle's own coordinates", d)
	}
}

// The wrapper hands the host the same factory new Function would make, also
// when the bundle ends with a line comment (the sourceMappingURL).
func TestBytecodeSourceDefinesFactory(t *testing.T) {
	node := nodeBinary(t)
	js := `exports.answer = require("host").base + 1;` + "\n//# sourceMappingURL=abc.map"
	script := `
let factory;
globalThis.` + DefineGlobal + ` = (f) => { factory = f; };
require('vm').runInThisContext(require('fs').readFileSync(process.argv[1], 'utf8'));
const module = {exports: {}};
factory((name) => name === 'host' ? {base: 41} : undefined, module, module.exports);
process.stdout.write(String(module.exports.answer));
`
	file := filepath.Join(t.TempDir(), "wrapped.js")
	if err := os.WriteFile(file, BytecodeSource([]byte(js)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(node, "-e", script, file).CombinedOutput()
	if err != nil || string(out) != "42" {
		t.Fatalf("node: %v: %s", err, out)
	}
}

func BenchmarkHermesCompile(b *testing.B) {
	h := hermesForTest(b)
	res := mustBuild(b, loadFixture(b, "mobile"), Mobile)
	for _, opt := range []bool{false, true} {
		name := "O0"
		if opt {
			name = "O"
		}
		b.Run(name, func(b *testing.B) {
			hh := *h
			hh.Optimize = opt
			for i := 0; i < b.N; i++ {
				if _, err := hh.Compile(context.Background(), res.JS); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
