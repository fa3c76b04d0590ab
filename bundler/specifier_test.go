package bundler

import (
	"errors"
	"strings"
	"testing"
)

// TestSpecifierControlCharacters is issue #15 F17: an import path holding a
// NUL byte gave a compile error with no diagnostic at all (the message
// naming it looked like the jail's own failures, which are dropped), so the
// developer read "fix the 0 problem(s)". Each import with a control
// character now has a diagnostic naming its file and line.
func TestSpecifierControlCharacters(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"NUL in a relative import", "import a from './a\x00.js';\nexport default a;\n", `"./a\0.js"`},
		{"NUL in a package import", "\nimport x from 'lodash\x00';\nexport default x;\n", `"lodash\0"`},
		{"NUL in require", "\n\nconst x = require('./a.js\x00');\nexport default x;\n", `"./a.js\0"`},
		{"NUL in a dynamic import", "\n\n\nexport const x = () => import('./a\x00');\n", `"./a\0"`},
		{"the text \\x00", "import a from './a\\\\x00.js';\nexport default a;\n", "backslash, then x00"},
	}
	wantLine := []int{1, 2, 3, 4, 1}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pkg := memPackage("index.ts", "", map[string]string{"index.ts": tc.src, "a.js": "export default 1;\n"})
			_, err := Build(pkg, Web)
			var ce *CompileError
			if !errors.As(err, &ce) {
				t.Fatalf("error = %v, want a *CompileError", err)
			}
			if len(ce.Diagnostics) == 0 {
				t.Fatal("a compile error without diagnostics")
			}
			d := ce.Diagnostics[0]
			if d.File != "index.ts" || d.Line != wantLine[i] {
				t.Errorf("diagnostic at %s:%d, want index.ts:%d (%s)", d.File, d.Line, wantLine[i], d.Text)
			}
			if !strings.Contains(d.Text, tc.want) || !strings.Contains(d.Text, "NUL") {
				t.Errorf("text %q does not name the import %s and the NUL", d.Text, tc.want)
			}
		})
	}
}
