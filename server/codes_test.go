package server_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// codeConsts lists the string constants named Code* declared in a Go file.
func codeConsts(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, sp := range g.Specs {
			vs := sp.(*ast.ValueSpec)
			for i, n := range vs.Names {
				if !strings.HasPrefix(n.Name, "Code") || i >= len(vs.Values) {
					continue
				}
				if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
					v, _ := strconv.Unquote(lit.Value)
					out[v] = n.Name
				}
			}
		}
	}
	return out
}

// docCodes lists the codes in the first column of the markdown tables of
// doc between the heading start and the next heading of the same level.
func docCodes(t *testing.T, doc, start string) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(doc)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.Index(s, "\n"+start+"\n")
	if i < 0 {
		t.Fatalf("%s has no %q section", doc, start)
	}
	s = s[i+len(start)+2:]
	level := start[:strings.Index(start, " ")+1]
	if j := strings.Index(s, "\n"+level); j >= 0 {
		s = s[:j]
	}
	row := regexp.MustCompile("(?m)^\\| (`[a-z0-9_]+`(?:, `[a-z0-9_]+`)*) \\|")
	code := regexp.MustCompile("`([a-z0-9_]+)`")
	out := map[string]bool{}
	for _, m := range row.FindAllStringSubmatch(s, -1) {
		for _, c := range code.FindAllStringSubmatch(m[1], -1) {
			out[c[1]] = true
		}
	}
	return out
}

// TestErrorCodesAreDocumented: every code the server answers is a
// constant of server/codes.go, and every such constant is in an error
// table of the docs (api.md's, or embed.md's for the embed routes); every
// code those tables list is a constant here or of pluginpkg (the package
// rules' codes the server passes on), so a new code cannot go
// undocumented and a documented one cannot silently disappear.
func TestErrorCodesAreDocumented(t *testing.T) {
	t.Parallel()
	server := codeConsts(t, "codes.go")
	pkg := codeConsts(t, "../bundler/pluginpkg/pluginpkg.go")
	for c, n := range codeConsts(t, "../bundler/pluginpkg/signature.go") {
		pkg[c] = n
	}
	documented := docCodes(t, "../docs/api.md", "## Error codes")
	for c := range docCodes(t, "../docs/embed.md", "### Refusals") {
		documented[c] = true
	}
	proxy := codeConsts(t, "../apiv4-proxy/codes.go")
	var missing, stale []string
	for _, consts := range []map[string]string{server, proxy} {
		for c, name := range consts {
			if !documented[c] {
				missing = append(missing, name+" ("+c+")")
			}
		}
	}
	for c := range documented {
		if server[c] == "" && pkg[c] == "" && proxy[c] == "" {
			stale = append(stale, c)
		}
	}
	sort.Strings(missing)
	sort.Strings(stale)
	if len(missing) > 0 {
		t.Errorf("codes the server answers that docs/api.md's error table (or docs/embed.md's refusals) does not list: %v", missing)
	}
	if len(stale) > 0 {
		t.Errorf("documented codes no constant declares (server/codes.go, apiv4-proxy/codes.go, pluginpkg): %v", stale)
	}
	if len(server) < 50 {
		t.Fatalf("only %d codes found in codes.go: the parse is broken", len(server))
	}
}

// TestNoCodeLiterals: the server and the proxy write no error code as a
// string literal outside their codes.go (errorf's or writeError's code
// argument, an Error's Code field).
func TestNoCodeLiterals(t *testing.T) {
	t.Parallel()
	lit := regexp.MustCompile(`(?:errorf\(\s*[^,()]+,\s*|writeError\(w, [^,()]+,\s*|Code:\s*)"[a-z0-9_]+"`)
	var files []string
	for _, dir := range []string{".", "../apiv4-proxy"} {
		ents, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range ents {
			files = append(files, filepath.Join(dir, f.Name()))
		}
	}
	for _, n := range files {
		if !strings.HasSuffix(n, ".go") || strings.HasSuffix(n, "_test.go") || filepath.Base(n) == "codes.go" {
			continue
		}
		b, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range lit.FindAllString(string(b), -1) {
			t.Errorf("%s: %s: use a constant of codes.go", n, m)
		}
	}
}
