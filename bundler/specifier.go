package bundler

import (
	"strconv"
	"strings"
)

// jailMark is how esbuild's failures inside the jail (jail.go) spell its
// NUL directories; diagnostics drops every message holding it (or a NUL).
const jailMark = `\x00`

// checkSpecifier refuses, before it is resolved, an import path that the
// resolver's "cannot resolve" message would quote with a NUL or with the
// text \x00: diagnostics would drop that message as one of the jail's, and
// the developer got a compile error with no diagnostic at all ("fix the 0
// problem(s)"). Neither can name a package file. The message shows a NUL as
// \0; esbuild adds the importing file, line and column.
func checkSpecifier(spec string) error {
	switch {
	case strings.ContainsRune(spec, 0):
		shown := strings.ReplaceAll(strconv.Quote(spec), jailMark, `\0`)
		if !strings.Contains(shown, jailMark) {
			return errorf("cannot import %s: the path contains a NUL character (shown as \\0); remove it", shown)
		}
		return errorf("cannot import this path: it contains a NUL character; remove it")
	case strings.Contains(spec, jailMark):
		return errorf("cannot import this path: it contains a NUL escape written out (a backslash, then x00), which no package file is named with; remove it")
	}
	return nil
}
