// Package docs holds the repository's documentation and the check that keeps
// it from drifting from the code: a doc that names a file that was moved or
// deleted fails `make test` (the unit suite runs this package).
package docs

import (
	"bufio"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
)

// root is the repository's root: this package's parent directory.
const root = ".."

// docFiles are the documents checked: README.md and docs/*.md.
func docFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.md")
	if err != nil {
		t.Fatal(err)
	}
	files = append([]string{filepath.Join(root, "README.md")}, files...)
	if len(files) < 5 {
		t.Fatalf("found only %v: run the test from docs/", files)
	}
	return files
}

var (
	// A Markdown link or image: [text](target) or ![alt](target "title").
	linkRE = regexp.MustCompile(`!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)`)
	// An inline code span: `text` (not ``text``, which this repository's docs do not use).
	codeRE = regexp.MustCompile("`([^`\n]+)`")
	// outsideRE names documents that are not in the repository: the
	// project's specification and style guide, and the shared reference
	// folder they came with. Docs describe what the code does and link to
	// the repository's own files.
	outsideRE = regexp.MustCompile(`\bSPEC\b|STYLE\.md|/work/|shared/reference`)
)

// extensions are the file extensions that make a backticked token a path.
var extensions = []string{
	".go", ".md", ".ts", ".tsx", ".js", ".mjs", ".cjs", ".jsx", ".json", ".css", ".scss", ".templ",
	".sh", ".yml", ".yaml", ".png", ".jpg", ".svg", ".txt", ".mod", ".sum", ".html", ".key", ".pub", ".gz",
}

// notPaths are backticked tokens the rules below would take for paths of
// this repository but that name something else.
var notPaths = map[string]string{
	// Files of other repositories, named where the docs compare with them.
	"webapp/channels/src/plugins/export.ts": "Mattermost's webapp",
	"webapp/src/index.tsx":                  "the plugin starter template's entry",
	"webapp/src/manifest.ts":                "the plugin starter template's generated manifest",
	"webapp/src/components/a.tsx":           "an example of a plugin's bare src/ import",
	"actions/hooks.ts":                      "Mattermost's webapp",
	"com.example.x/plugin.json":             "a path inside a plugin archive",
	// Paths inside a plugin's folder, which has a webapp/ as this repository does.
	"webapp/dist/main.js":  "a plugin's built bundle",
	"webapp/src/selectors": "a plugin's source folder",
}

// pathToken reports whether a backticked token names a path to check.
//
// The rule: a token is a path when it has no white space, has a "/", and
// either ends in one of extensions or starts with a top-level entry of the
// repository (`webapp/console`, `cmd/mmtoolkit`, `docs/examples/hello`) or
// with "./" or "../". A folder named alone (`public/`, `src/`,
// `node_modules/`) is a kind of folder, in a plugin or a package, not a path.
// It is not a path when it is a URL (has "://"), a route or an absolute
// path (starts with "/"), a flag (starts with "-"), an npm scope ("@"), a
// test name (TestX/..., FuzzX/...), or a pattern or placeholder (holds any
// of * ? { } < > [ ] … $ = ( ) : , ' " or "..."). A bare file name without
// a "/" (`plugin.json`, `index.tsx`) is a kind of file, not a path, unless
// it is a top-level entry (`Makefile`, `go.mod`). notPaths lists the few
// tokens of other repositories that look like ours.
func pathToken(tok string, top map[string]bool) bool {
	if tok == "" || strings.ContainsAny(tok, " \t") || strings.Contains(tok, "://") || strings.Contains(tok, "...") ||
		strings.ContainsAny(tok, "*?{}<>[]…$=():,'\"") {
		return false
	}
	if strings.HasPrefix(tok, "/") || strings.HasPrefix(tok, "-") || strings.HasPrefix(tok, "@") || strings.HasPrefix(tok, "~") {
		return false
	}
	if testNameRE.MatchString(tok) {
		return false
	}
	if _, ok := notPaths[tok]; ok {
		return false
	}
	first, _, hasSlash := strings.Cut(tok, "/")
	if !hasSlash {
		return top[tok]
	}
	if slices.ContainsFunc(extensions, func(e string) bool { return strings.HasSuffix(tok, e) }) {
		return true
	}
	return top[first] || first == "." || first == ".."
}

var testNameRE = regexp.MustCompile(`^(Test|Fuzz|Benchmark|Example)[A-Z0-9_]`)

// exists reports whether a path named in doc exists: relative to the doc's
// directory, to the repository's root, or to a top-level directory of the
// repository (docs/webapp.md names `src/host.ts`, the webapp's). A path that
// leaves the repository does not count. A path inside a folder a .gitignore
// names (`webapp/test-artifacts/`, `mobile/preview/e2e/out/`: what the build
// and the tests create) counts when that folder is where the doc says, since
// on a fresh clone it does not exist yet.
func exists(doc, p string, top map[string]bool) bool {
	abs, _ := filepath.Abs(root)
	bases := []string{filepath.Dir(doc), root}
	for d := range top {
		bases = append(bases, filepath.Join(root, d))
	}
	for _, b := range bases {
		full, _ := filepath.Abs(filepath.Join(b, filepath.FromSlash(p)))
		if full != abs && !strings.HasPrefix(full, abs+string(filepath.Separator)) {
			continue
		}
		if _, err := os.Stat(full); err == nil {
			return true
		}
		if rel, err := filepath.Rel(abs, full); err == nil && generated(filepath.ToSlash(rel)) {
			return true
		}
	}
	return false
}

// ignoredDirs are the folders the repository's .gitignore files name
// without a wildcard ("test-artifacts/" in webapp/.gitignore is
// webapp/**/test-artifacts), as "dir of the .gitignore" and the pattern.
var ignoredDirs = sync.OnceValue(func() [][2]string {
	var out [][2]string
	for _, f := range []string{".gitignore", "webapp/.gitignore", "mobile/.gitignore"} {
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			continue
		}
		base := path.Dir(f)
		for _, l := range strings.Split(string(b), "\n") {
			l = strings.TrimSpace(l)
			if !strings.HasSuffix(l, "/") || strings.ContainsAny(l, "*?[!#") {
				continue
			}
			out = append(out, [2]string{base, strings.TrimSuffix(l, "/")})
		}
	}
	return out
})

// generated reports whether rel (slash-separated, from the root) lies in a
// folder that a .gitignore names.
func generated(rel string) bool {
	for _, d := range ignoredDirs() {
		base, pat := d[0], strings.TrimPrefix(d[1], "/")
		under := rel
		if base != "." {
			if !strings.HasPrefix(rel, base+"/") {
				continue
			}
			under = strings.TrimPrefix(rel, base+"/")
		}
		if strings.Contains(pat, "/") || strings.HasPrefix(d[1], "/") {
			// Anchored at the .gitignore's folder.
			if under == pat || strings.HasPrefix(under, pat+"/") {
				return true
			}
			continue
		}
		if slices.Contains(strings.Split(under, "/"), pat) {
			return true
		}
	}
	return false
}

// topLevel lists the repository's top-level entries (directories and files).
func topLevel(t *testing.T) map[string]bool {
	t.Helper()
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	top := map[string]bool{}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), ".") {
			top[e.Name()] = true
		}
	}
	return top
}

// line is one line of a doc; fenced lines are inside a fenced code block,
// which holds commands and output, not references (the README's tour
// commands are run by the tour test instead).
type line struct {
	n      int
	text   string
	fenced bool
}

func readLines(t *testing.T, doc string) []line {
	t.Helper()
	f, err := os.Open(doc)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []line
	fenced := false
	s := bufio.NewScanner(f)
	s.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; s.Scan(); n++ {
		text := s.Text()
		if strings.HasPrefix(strings.TrimSpace(text), "```") {
			fenced = !fenced
			continue
		}
		out = append(out, line{n, text, fenced})
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRelativeLinksExist: every relative link of README.md and docs/*.md
// (a file, with or without an #anchor) names a file or directory of the
// repository.
func TestRelativeLinksExist(t *testing.T) {
	checked := 0
	for _, doc := range docFiles(t) {
		for _, l := range readLines(t, doc) {
			if l.fenced {
				continue
			}
			for _, m := range linkRE.FindAllStringSubmatch(l.text, -1) {
				target := m[1]
				if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") || strings.HasPrefix(target, "#") {
					continue
				}
				target, _, _ = strings.Cut(target, "#")
				checked++
				if strings.HasPrefix(target, "/") {
					t.Errorf("%s:%d: link %q is absolute: link files of the repository relatively", doc, l.n, m[1])
					continue
				}
				full, _ := filepath.Abs(filepath.Join(filepath.Dir(doc), filepath.FromSlash(target)))
				abs, _ := filepath.Abs(root)
				if !strings.HasPrefix(full, abs+string(filepath.Separator)) {
					t.Errorf("%s:%d: link %q leaves the repository: docs link only the repository's own files", doc, l.n, m[1])
					continue
				}
				if _, err := os.Stat(full); err != nil {
					t.Errorf("%s:%d: link %q: no such file or directory in the repository", doc, l.n, m[1])
				}
			}
		}
	}
	if checked < 50 {
		t.Errorf("checked only %d links: the link pattern no longer matches the docs", checked)
	}
}

// TestBacktickedPathsExist: every path named in backticks in README.md and
// docs/*.md (pathToken says which tokens are paths) exists in the
// repository.
func TestBacktickedPathsExist(t *testing.T) {
	top := topLevel(t)
	checked := 0
	for _, doc := range docFiles(t) {
		for _, l := range readLines(t, doc) {
			if l.fenced {
				continue
			}
			for _, m := range codeRE.FindAllStringSubmatch(l.text, -1) {
				tok := m[1]
				if !pathToken(tok, top) {
					continue
				}
				checked++
				if !exists(doc, tok, top) {
					t.Errorf("%s:%d: `%s` is not a path of the repository: name the file as it is now (relative to the repository root), or say what it is in words", doc, l.n, tok)
				}
			}
		}
	}
	if checked < 50 {
		t.Errorf("checked only %d paths: the path rule no longer matches the docs", checked)
	}
}

// TestNoOutsideReferences: the docs never point at documents outside the
// repository (the project's specification, style guide or reference folder),
// which a reader of the repository cannot open.
func TestNoOutsideReferences(t *testing.T) {
	for _, doc := range docFiles(t) {
		for _, l := range readLines(t, doc) {
			if m := outsideRE.FindString(l.text); m != "" {
				t.Errorf("%s:%d: %q refers to a document outside the repository: say what it says, or link the repository's own file", doc, l.n, m)
			}
		}
	}
}

// TestGenerated: folders the .gitignore files name count as existing
// where they would be created, and nothing else does.
func TestGenerated(t *testing.T) {
	for _, tc := range []struct {
		rel  string
		want bool
	}{
		{"webapp/test-artifacts", true},
		{"webapp/test-artifacts/screenshots", true},
		{"mobile/preview/e2e/out/mobile-preview.png", true},
		{"bin/mmtoolkit", true},
		{"plugins/map/node_modules/d3-geo", true},
		{"webapp/src/host.ts", false},
		{"mobile/e2e/out", false},
		{"docs/test-artifacts", false},
	} {
		if got := generated(tc.rel); got != tc.want {
			t.Errorf("generated(%q) = %v, want %v", tc.rel, got, tc.want)
		}
	}
}

// TestPathTokenRule pins the rule pathToken documents.
func TestPathTokenRule(t *testing.T) {
	top := map[string]bool{"webapp": true, "cmd": true, "plugins": true, "Makefile": true, "go.mod": true}
	for _, tc := range []struct {
		tok  string
		want bool
	}{
		{"webapp/src/host.ts", true},
		{"src/host.ts", true},
		{"webapp/dist/", true},
		{"public/", false},
		{"src/", false},
		{"cmd/mmtoolkit", true},
		{"Makefile", true},
		{"go.mod", true},
		{"../bundler/x.go", true},
		{"plugin.json", false},
		{"net/http", false},
		{"react/jsx-runtime", false},
		{"application/gzip", false},
		{"/api/v1/manifest", false},
		{"https://example.com/x.md", false},
		{"--trust", false},
		{"@mattermost/client", false},
		{"TestReadArchive/symlink", false},
		{"/plugins/{id}/*", false},
		{"<data>/blob-files", false},
		{"src/manifest.*", false},
		{"d/d/d/...", false},
		{"c:/x", false},
		{"mmtoolkit push docs/examples/hello", false},
		{"webapp/channels/src/plugins/export.ts", false},
	} {
		if got := pathToken(tc.tok, top); got != tc.want {
			t.Errorf("pathToken(%q) = %v, want %v", tc.tok, got, tc.want)
		}
	}
}
