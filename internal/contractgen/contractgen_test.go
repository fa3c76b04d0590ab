package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mmtoolkit/mmtoolkit/slots"
)

// root is the repository root, seen from this package's directory.
const root = "../.."

// TestGeneratedFilesAreCurrent is the check `make test` runs: the committed
// TypeScript is what the Go side generates now.
func TestGeneratedFilesAreCurrent(t *testing.T) {
	files, err := generate(root, currentInputs())
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no generated files")
	}
	for _, p := range stale(root, files) {
		t.Error(p)
	}
}

// TestOneSidedEditIsCaught edits a contract on one side only, the Go
// declaration or the TypeScript, and expects the check to name the file
// and the command that brings the sides together again.
func TestOneSidedEditIsCaught(t *testing.T) {
	current, err := generate(root, currentInputs())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		// change returns the root to generate from, the inputs, and the
		// root whose files are checked.
		change func(t *testing.T) (genRoot string, in inputs, checkRoot string)
		want   []string // files the check must name
	}{
		{
			name: "slot renamed in the Go catalogue",
			change: func(t *testing.T) (string, inputs, string) {
				in := currentInputs()
				in.Catalogue = renameSlot(in.Catalogue, "call_button", "call_btn")
				return root, in, root
			},
			want: []string{"webapp/src/generated/slots.ts", "mobile/src/generated/slots.ts"},
		},
		{
			name: "slot renamed in the generated TypeScript",
			change: func(t *testing.T) (string, inputs, string) {
				dir := writeTree(t, current)
				editFile(t, dir, "webapp/src/generated/slots.ts", "'app_bar'", "'app_rail'")
				return root, currentInputs(), dir
			},
			want: []string{"webapp/src/generated/slots.ts"},
		},
		{
			name: "manifest field renamed in Go",
			change: func(t *testing.T) (string, inputs, string) {
				dir := copyGoSource(t)
				editFile(t, dir, "slots/manifest.go", `json:"host_modules"`, `json:"hostModules"`)
				return dir, currentInputs(), root
			},
			want: []string{"webapp/src/generated/manifest.ts"},
		},
		{
			name: "mobile manifest field added in Go",
			change: func(t *testing.T) (string, inputs, string) {
				dir := copyGoSource(t)
				editFile(t, dir, "slots/mobile.go", "\tSize   int64  `json:\"size\"`\n", "\tSize   int64  `json:\"size\"`\n\tLabel string `json:\"label\"`\n")
				return dir, currentInputs(), root
			},
			want: []string{"mobile/src/generated/manifest.ts"},
		},
		{
			name: "websocket event renamed in Go",
			change: func(t *testing.T) (string, inputs, string) {
				dir := copyGoSource(t)
				editFile(t, dir, "server/events.go", `"plugin_updated"`, `"plugin_changed"`)
				return dir, currentInputs(), root
			},
			want: []string{"webapp/src/generated/events.ts"},
		},
		{
			name: "crash report field renamed in Go",
			change: func(t *testing.T) (string, inputs, string) {
				dir := copyGoSource(t)
				editFile(t, dir, "server/crashes.go", `json:"team_id"`, `json:"team"`)
				return dir, currentInputs(), root
			},
			want: []string{"webapp/src/generated/crash_report.ts", "mobile/src/generated/crash_report.ts"},
		},
		{
			name: "host global added in Go",
			change: func(t *testing.T) (string, inputs, string) {
				in := currentInputs()
				in.HostGlobals = map[string]string{"styled-components": "StyledComponents"}
				for k, v := range currentInputs().HostGlobals {
					in.HostGlobals[k] = v
				}
				return root, in, root
			},
			want: []string{"webapp/src/generated/host_modules.ts"},
		},
		{
			name: "hand-written file in a generated directory",
			change: func(t *testing.T) (string, inputs, string) {
				dir := writeTree(t, current)
				if err := os.WriteFile(filepath.Join(dir, "mobile/src/generated/extra.ts"), []byte("export {};\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				return root, currentInputs(), dir
			},
			want: []string{"mobile/src/generated/extra.ts"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			genRoot, in, checkRoot := tc.change(t)
			files, err := generate(genRoot, in)
			if err != nil {
				t.Fatal(err)
			}
			problems := stale(checkRoot, files)
			var named []string
			for _, p := range problems {
				if !strings.Contains(p, "`"+command+"`") {
					t.Errorf("problem does not say to run %q: %s", command, p)
				}
				named = append(named, p[:strings.Index(p, " ")])
			}
			slices.Sort(named)
			want := slices.Sorted(slices.Values(tc.want))
			if !slices.Equal(named, want) {
				t.Errorf("check named %q, want %q; problems:\n%s", named, want, strings.Join(problems, "\n"))
			}
		})
	}
}

// TestWrite: a run writes the files, removes strays, and a second run
// changes nothing (the webapp's build inputs keep their times).
func TestWrite(t *testing.T) {
	files, err := generate(root, currentInputs())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	stray := filepath.Join(dir, "webapp/src/generated/old.ts")
	if err := os.MkdirAll(filepath.Dir(stray), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(stray, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := write(dir, files); err != nil {
		t.Fatal(err)
	}
	if p := stale(dir, files); len(p) > 0 {
		t.Fatalf("after write: %q", p)
	}
	if _, err := os.Stat(stray); !os.IsNotExist(err) {
		t.Errorf("stray file kept: %v", err)
	}
	p := filepath.Join(dir, "webapp/src/generated/slots.ts")
	before, _ := os.Stat(p)
	old := before.ModTime().Add(-1e9 * 3600)
	if err := os.Chtimes(p, old, old); err != nil {
		t.Fatal(err)
	}
	if err := write(dir, files); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.Stat(p); !after.ModTime().Equal(old) {
		t.Errorf("an unchanged file was rewritten")
	}
}

// TestHeader: every generated file says it is generated, on its first
// line, in the form Go's tools and linters recognise.
func TestHeader(t *testing.T) {
	files, err := generate(root, currentInputs())
	if err != nil {
		t.Fatal(err)
	}
	for p, b := range files {
		first, _, _ := strings.Cut(string(b), "\n")
		if !strings.HasPrefix(first, "// Code generated ") || !strings.HasSuffix(first, " DO NOT EDIT.") {
			t.Errorf("%s: first line %q", p, first)
		}
	}
}

func renameSlot(cat []slots.Slot, from, to string) []slots.Slot {
	out := slices.Clone(cat)
	for i := range out {
		if out[i].Name == from {
			out[i].Name = to
		}
	}
	return out
}

// writeTree writes files under a new temporary root.
func writeTree(t *testing.T, files map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	if err := write(dir, files); err != nil {
		t.Fatal(err)
	}
	return dir
}

// copyGoSource copies the Go packages the generator reads to a temporary
// root, for a test to edit.
func copyGoSource(t *testing.T) string {
	t.Helper()
	src := newGoSource(root)
	if _, err := render(src, contracts(currentInputs())); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for pkg := range src.pkgs {
		ents, err := os.ReadDir(filepath.Join(root, pkg))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(dir, pkg), 0o755); err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			if e.IsDir() || !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
				continue
			}
			b, err := os.ReadFile(filepath.Join(root, pkg, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, pkg, e.Name()), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return dir
}

func editFile(t *testing.T, dir, name, from, to string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(name))
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), from) {
		t.Fatalf("%s does not contain %q", name, from)
	}
	if err := os.WriteFile(p, []byte(strings.Replace(string(b), from, to, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestNameCollision: two Go types that would be one TypeScript interface
// are an error, not a file that fails the type check far from its cause.
func TestNameCollision(t *testing.T) {
	files := []tsFile{{Path: "webapp/src/generated/x.ts", Indent: "    ", Decls: []tsDecl{
		structDecl{Ref: goRef{"slots", "Plugin"}},
		structDecl{Ref: goRef{"slots", "MobilePlugin"}, TS: "Plugin"},
	}}}
	_, err := render(newGoSource(root), files)
	if err == nil || !strings.Contains(err.Error(), "are both Plugin") {
		t.Fatalf("err = %v, want a name collision", err)
	}
}
