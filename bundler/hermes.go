package bundler

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// ErrNoHermesc is returned by FindHermesc when no hermesc binary is found.
var ErrNoHermesc = errors.New("hermesc not found: run `make mobile` (installs hermes-compiler into mobile/tools) or pass --hermesc")

// ErrNotBytecode is returned by BytecodeVersion when the bytes do not start
// with Hermes' bytecode magic.
var ErrNotBytecode = errors.New("not Hermes bytecode")

// HermescRelPath is where the project's set-up (`make mobile`) installs the
// pinned hermes-compiler, relative to the repository root.
const HermescRelPath = "mobile/tools/node_modules/hermes-compiler/hermesc/linux64-bin/hermesc"

// BytecodeContentType is the media type of Hermes bytecode artifacts.
const BytecodeContentType = "application/vnd.facebook.hermes-bytecode"

// hbcMagic starts every Hermes bytecode file; the bytecode version follows
// as a little-endian uint32.
var hbcMagic = []byte{0xc6, 0x1f, 0xbc, 0x03, 0xc1, 0x03, 0x19, 0x1f}

// BytecodeVersion reads the bytecode version from a Hermes bytecode file's
// header. An app can run the file only if its Hermes has exactly this
// version (HermesInternal.getRuntimeProperties()['Bytecode Version']).
func BytecodeVersion(hbc []byte) (uint32, error) {
	if len(hbc) < len(hbcMagic)+4 || !bytes.Equal(hbc[:len(hbcMagic)], hbcMagic) {
		return 0, ErrNotBytecode
	}
	return binary.LittleEndian.Uint32(hbc[len(hbcMagic):]), nil
}

// DefineGlobal is the host function a bytecode bundle calls. A mobile JS
// bundle is a CommonJS function body (see Build); Hermes compiles scripts,
// so the bytecode variant is compiled from
//
//	globalThis.__mmtoolkitDefine(function (require, module, exports) {
//	<the JS bundle>
//	});
//
// and evaluating it hands the host the same function that
// new Function("require", "module", "exports", js) would have made. The
// host sets the global just before it evaluates the bytecode (synchronously).
const DefineGlobal = "__mmtoolkitDefine"

const (
	bytecodePrologue = "globalThis." + DefineGlobal + "(function (require, module, exports) {\n"
	bytecodeEpilogue = "\n});\n"
)

// Hermes runs one hermesc binary. Its zero value is unusable; use NewHermes.
type Hermes struct {
	// Path of the hermesc binary.
	Path string
	// Version is hermesc's bytecode version (what it emits).
	Version uint32
	// Release is hermesc's release string ("Hermes release version: ...").
	Release string
	// Optimize compiles with -O (what React Native release builds use)
	// rather than -O0. -O makes smaller, faster bytecode and takes about
	// ten times longer to compile.
	Optimize bool
}

// Bytecode is one compiled bundle.
type Bytecode struct {
	HBC     []byte
	Version uint32
	// Duration is the wall time hermesc ran.
	Duration time.Duration
}

// FindHermesc returns the hermesc to use: path when it is set (an error if
// it is not an executable file), else the pinned install under a project
// root (dir, then the directories above the running binary and the working
// directory), else hermesc on PATH.
func FindHermesc(path string) (string, error) {
	return findTool(path, "hermesc", HermescRelPath, ErrNoHermesc)
}

// findTool finds a tool a build runs (hermesc, Dart Sass): given when it is
// set (an error naming what if it is not an executable file), else the
// pinned install at rel under a project root (the directories above the
// running binary, then the working directory), else name on PATH, else
// none. Tools are found, never downloaded.
func findTool(given, what, rel string, none error) (string, error) {
	if given != "" {
		if err := executable(given); err != nil {
			return "", fmt.Errorf("bundler: %s %s: %w", what, given, err)
		}
		return given, nil
	}
	var roots []string
	if exe, err := os.Executable(); err == nil {
		if exe, err = filepath.EvalSymlinks(exe); err == nil {
			roots = append(roots, ancestors(filepath.Dir(exe))...)
		}
	}
	if wd, err := os.Getwd(); err == nil {
		roots = append(roots, ancestors(wd)...)
	}
	for _, r := range roots {
		p := filepath.Join(r, filepath.FromSlash(rel))
		if executable(p) == nil {
			return p, nil
		}
	}
	if p, err := exec.LookPath(path.Base(rel)); err == nil {
		return p, nil
	}
	return "", none
}

// ancestors lists dir and up to four directories above it.
func ancestors(dir string) []string {
	out := []string{dir}
	for i := 0; i < 4; i++ {
		up := filepath.Dir(dir)
		if up == dir {
			break
		}
		out, dir = append(out, up), up
	}
	return out
}

func executable(p string) error {
	fi, err := os.Stat(p)
	if err != nil {
		return err
	}
	if fi.IsDir() || fi.Mode()&0o111 == 0 {
		return fmt.Errorf("not an executable file")
	}
	return nil
}

// NewHermes checks the hermesc at path by compiling a one-line program, and
// learns the bytecode version it emits from the output's header.
func NewHermes(ctx context.Context, path string) (*Hermes, error) {
	h := &Hermes{Path: path, Optimize: true}
	out, err := exec.CommandContext(ctx, path, "-version").Output()
	if err != nil {
		return nil, fmt.Errorf("bundler: %s -version: %w", path, err)
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "Hermes release version:"); ok {
			h.Release = strings.TrimSpace(v)
		}
	}
	bc, err := h.compile(ctx, []byte("0;\n"), false)
	if err != nil {
		return nil, fmt.Errorf("bundler: %s does not compile a test program: %w", path, err)
	}
	h.Version = bc.Version
	return h, nil
}

// Compile compiles a mobile JS bundle (Build's Mobile output) to Hermes
// bytecode, wrapped as DefineGlobal documents. Source that hermesc rejects
// is a *CompileError whose diagnostics locate the problem in the JS bundle
// (file "mobile.js", line and column of the bundle, not of the plugin's
// sources: esbuild already accepted those).
func (h *Hermes) Compile(ctx context.Context, js []byte) (*Bytecode, error) {
	return h.compile(ctx, BytecodeSource(js), true)
}

// BytecodeSource is the script Compile compiles for a mobile JS bundle: the
// bundle wrapped in a call of DefineGlobal.
func BytecodeSource(js []byte) []byte {
	src := make([]byte, 0, len(bytecodePrologue)+len(js)+len(bytecodeEpilogue))
	src = append(src, bytecodePrologue...)
	src = append(src, js...)
	return append(src, bytecodeEpilogue...)
}

func (h *Hermes) compile(ctx context.Context, src []byte, wrapped bool) (*Bytecode, error) {
	dir, err := os.MkdirTemp("", "mmtoolkit-hermesc-")
	if err != nil {
		return nil, fmt.Errorf("bundler: hermesc: %w", err)
	}
	defer os.RemoveAll(dir)
	in, out := filepath.Join(dir, "mobile.js"), filepath.Join(dir, "mobile.hbc")
	if err := os.WriteFile(in, src, 0o600); err != nil {
		return nil, fmt.Errorf("bundler: hermesc: %w", err)
	}
	opt := "-O0"
	if h.Optimize {
		opt = "-O"
	}
	// Relative names: the file name is recorded in the bytecode's debug
	// info, and a temporary directory in it would make output differ.
	cmd := exec.CommandContext(ctx, h.Path, "-emit-binary", opt, "-w", "-out", "mobile.hbc", "mobile.js")
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	t0 := time.Now()
	runErr := cmd.Run()
	took := time.Since(t0)
	if runErr != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		diags := hermesDiagnostics(stderr.Bytes(), "mobile.js", wrapped)
		if len(diags) > 0 {
			return nil, &CompileError{Target: Mobile, Diagnostics: diags}
		}
		return nil, fmt.Errorf("bundler: hermesc: %w: %s", runErr, bytes.TrimSpace(stderr.Bytes()))
	}
	hbc, err := os.ReadFile(out)
	if err != nil {
		return nil, fmt.Errorf("bundler: hermesc output: %w", err)
	}
	v, err := BytecodeVersion(hbc)
	if err != nil {
		return nil, fmt.Errorf("bundler: hermesc output: %w", err)
	}
	return &Bytecode{HBC: hbc, Version: v, Duration: took}, nil
}

// hermesError matches hermesc's "file:line:col: error: text".
var hermesError = regexp.MustCompile(`^(.*):(\d+):(\d+): error: (.*)$`)

// hermesDiagnostics turns hermesc's stderr into diagnostics in the JS
// bundle's coordinates (the wrapper's first line removed; columns 0-based).
func hermesDiagnostics(stderr []byte, file string, wrapped bool) []Diagnostic {
	var out []Diagnostic
	sc := bufio.NewScanner(bytes.NewReader(stderr))
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	for sc.Scan() {
		m := hermesError.FindStringSubmatch(sc.Text())
		if m == nil || m[1] != file {
			continue
		}
		line, _ := strconv.Atoi(m[2])
		col, _ := strconv.Atoi(m[3])
		if wrapped {
			line--
		}
		d := Diagnostic{File: "mobile.js", Line: max(line, 1), Column: max(col-1, 0), Text: "hermesc: " + m[4]}
		out = append(out, d)
	}
	return out
}
