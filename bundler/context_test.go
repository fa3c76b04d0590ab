package bundler

import (
	"strings"
	"testing"
)

func TestRewriteContextImports(t *testing.T) {
	tests := []struct {
		src  string
		want string // "" means unchanged
	}{
		{"require(`./i18n/${locale}.json`)", `require("mmtoolkit-context:{\"i\":\"src/a.js\",\"d\":false,\"p\":\"./i18n/\",\"s\":\".json\"}")(locale)`},
		{"import('./panels/' + props.name + '.jsx')", `require("mmtoolkit-context:{\"i\":\"src/a.js\",\"d\":true,\"p\":\"./panels/\",\"s\":\".jsx\"}")(props.name)`},
		{"require( '../icons/icon-' /* c */ + name )", `require("mmtoolkit-context:{\"i\":\"src/a.js\",\"d\":false,\"p\":\"../icons/icon-\",\"s\":\"\"}")(name)`},
		{"x = require('./a'); y = require(`./b/${n}`);", `x = require('./a'); y = require("mmtoolkit-context:{\"i\":\"src/a.js\",\"d\":false,\"p\":\"./b/\",\"s\":\"\"}")(n);`},
		{"require(`./i18n/${locale()}.json`)", ""},                  // not a plain name
		{"require(`./i18n/${a}/${b}.json`)", ""},                    // two parts
		{"require(name + '.json')", ""},                             // no prefix
		{"require('lodash/' + name)", ""},                           // not relative
		{"require('./a/*' + name)", ""},                             // glob characters
		{"obj.require('./a/' + name)", ""},                          // not the global
		{"myrequire('./a/' + name)", ""},                            // another function
		{"require('./a/\\'' + name)", ""},                           // escapes
		{"require(`./a/\\${x}`)", ""},                               // escaped substitution
		{"require('./a/' + name, extra)", ""},                       // second argument
		{"const s = \"require('./a/' + x)\";", ""},                  // in a string
		{"const s = 'it\\'s ' + \"x\"; // require('./a/' + x)", ""}, // in a comment
		{"a = '/*'; b = require(`./b/${n}`);", `a = '/*'; b = require("mmtoolkit-context:{\"i\":\"src/a.js\",\"d\":false,\"p\":\"./b/\",\"s\":\"\"}")(n);`},
		{"/* x */ require(`./b/${n}`)", `/* x */ require("mmtoolkit-context:{\"i\":\"src/a.js\",\"d\":false,\"p\":\"./b/\",\"s\":\"\"}")(n)`},
	}
	for _, tc := range tests {
		got := rewriteContextImports(tc.src, "src/a.js")
		want := tc.want
		if want == "" {
			want = tc.src
		}
		if got != want {
			t.Errorf("rewriteContextImports(%q)\n got %s\nwant %s", tc.src, got, want)
		}
	}
}

func TestContextModule(t *testing.T) {
	tree := newFileTree(map[string][]byte{
		"src/a.js":                     nil,
		"src/i18n/de.json":             nil,
		"src/i18n/fr.json":             nil,
		"src/i18n/extra/pt.json":       nil,
		"src/i18n/README.md":           nil,
		"src/i18n/LICENSE":             nil,
		"src/i18n/node_modules/x.json": nil,
	})
	src, err := contextModule(tree, contextSpec{Importer: "src/a.js", Prefix: "./i18n/", Suffix: ".json"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"de": function () { return require("/src/i18n/de.json"); }`, `"extra/pt":`, `"fr":`} {
		if !strings.Contains(src, want) {
			t.Errorf("context module lacks %s:\n%s", want, src)
		}
	}
	for _, not := range []string{"README", "LICENSE", "node_modules"} {
		if strings.Contains(src, not) {
			t.Errorf("context module includes %s:\n%s", not, src)
		}
	}
	noSuffix, err := contextModule(tree, contextSpec{Importer: "src/a.js", Prefix: "./i18n/", Dynamic: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"de": function () { return import("/src/i18n/de.json"); }`, `"de.json":`, `"README.md":`, "Promise.reject(e)"} {
		if !strings.Contains(noSuffix, want) {
			t.Errorf("context module lacks %s:\n%s", want, noSuffix)
		}
	}
	if _, err := contextModule(tree, contextSpec{Importer: "src/a.js", Prefix: "../../x/"}); err == nil {
		t.Error("a context import outside the package was accepted")
	}
}

// FuzzRewriteContextImports: any module text is safe to rewrite, and a
// rewritten module has nothing left to rewrite.
func FuzzRewriteContextImports(f *testing.F) {
	f.Add("require(`./i18n/${locale}.json`)", "a.js")
	f.Add("import('./panels/' + props.name + '.jsx')", "src/x.tsx")
	f.Add("const s = 'it\\'s'; require('./a/' + b) /* require(`./c/${d}`) */", "b.js")
	f.Fuzz(func(t *testing.T, src, importer string) {
		once := rewriteContextImports(src, importer)
		if twice := rewriteContextImports(once, importer); twice != once {
			t.Fatalf("rewriting is not idempotent:\n%q\n%q", once, twice)
		}
	})
}
