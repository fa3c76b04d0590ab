package bundler

import (
	"encoding/json"
	"path"
	"regexp"
	"strings"
)

// packageJSON holds the fields of a package.json that decide how imports of
// the package resolve and whether its modules may be tree-shaken away.
type packageJSON struct {
	dir string // package-relative directory holding the file
	// mainFields: "main", "module", and the string forms of "browser" and
	// "react-native".
	mainFields map[string]string
	// browserFiles / browserModules are the object form of "browser" (and of
	// "react-native" for mobile): a replacement per file or module name,
	// nil meaning "replace with an empty module" (the `false` value).
	browserFiles   map[string]*string
	browserModules map[string]*string
	exports        *jsonValue
	imports        *jsonValue
	// sideEffectsFalse is "sideEffects": false; sideEffects the globs of the
	// array form. Neither set means every file has side effects.
	sideEffectsFalse bool
	sideEffects      []*regexp.Regexp
}

// parsePackageJSON reads the fields resolution needs. A package.json that is
// not valid JSON is treated as absent (index.js and plain paths still
// resolve) rather than failing the build over npm metadata; a field of the
// wrong type is ignored the same way.
func (r *resolver) parsePackageJSON(dir string, data []byte) *packageJSON {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil
	}
	pj := &packageJSON{dir: dir, mainFields: map[string]string{}}
	for _, f := range []string{"main", "module", "browser", "react-native"} {
		var s string
		if raw, ok := top[f]; ok && json.Unmarshal(raw, &s) == nil && s != "" {
			pj.mainFields[f] = s
		}
	}
	// Mobile honours "react-native" replacement maps as Metro does; both maps
	// are merged with "react-native" winning.
	mapFields := []string{"browser"}
	if r.target == Mobile {
		mapFields = append(mapFields, "react-native")
	}
	for _, f := range mapFields {
		var m map[string]json.RawMessage
		if raw, ok := top[f]; !ok || json.Unmarshal(raw, &m) != nil {
			continue
		}
		for k, raw := range m {
			var repl *string
			var s string
			var b bool
			switch {
			case json.Unmarshal(raw, &s) == nil:
				repl = &s
			case json.Unmarshal(raw, &b) == nil && !b:
				repl = nil
			default:
				continue
			}
			r.addBrowserKey(pj, k, repl)
		}
	}
	for _, f := range []string{"exports", "imports"} {
		raw, ok := top[f]
		if !ok {
			continue
		}
		v, err := parseOrderedJSON(raw)
		if err != nil || v.kind == jsonNull {
			continue
		}
		if f == "exports" {
			pj.exports = &v
		} else {
			pj.imports = &v
		}
	}
	if raw, ok := top["sideEffects"]; ok {
		var b bool
		var globs []string
		if json.Unmarshal(raw, &b) == nil {
			pj.sideEffectsFalse = !b
		} else if json.Unmarshal(raw, &globs) == nil {
			pj.sideEffectsFalse = true
			for _, g := range globs {
				if re, err := globRegexp(g); err == nil {
					pj.sideEffects = append(pj.sideEffects, re)
				}
			}
		}
	}
	return pj
}

// addBrowserKey files one key of a "browser" map: "./lib/node.js" names a
// file of the package (with or without extension), "fs" a module.
func (r *resolver) addBrowserKey(pj *packageJSON, key string, repl *string) {
	if pj.browserFiles == nil {
		pj.browserFiles = map[string]*string{}
		pj.browserModules = map[string]*string{}
	}
	isPath := strings.HasPrefix(key, "./") || strings.HasPrefix(key, "../") || strings.HasPrefix(key, "/")
	if !isPath {
		pj.browserModules[key] = repl
	}
	if p, ok := joinRel(pj.dir, key); ok {
		if f, ok := r.loadAsFile(p); ok {
			pj.browserFiles[f] = repl
		} else if isPath {
			pj.browserFiles[p] = repl
		}
	}
}

// hasSideEffects reports whether file f (package-relative) of this package
// must be kept even when nothing it exports is used.
func (pj *packageJSON) hasSideEffects(f string) bool {
	if !pj.sideEffectsFalse {
		return true
	}
	rel := strings.TrimPrefix(f, pj.dir+"/")
	if pj.dir == "" {
		rel = f
	}
	for _, re := range pj.sideEffects {
		if re.MatchString(rel) {
			return true
		}
	}
	return false
}

// globRegexp compiles a "sideEffects" glob the way webpack reads it: a glob
// without a slash matches a file name anywhere in the package.
func globRegexp(g string) (*regexp.Regexp, error) {
	g = strings.TrimPrefix(g, "./")
	if !strings.Contains(g, "/") {
		g = "**/" + g
	}
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(g); i++ {
		switch c := g[i]; {
		case strings.HasPrefix(g[i:], "**/"):
			b.WriteString("(?:.*/)?")
			i += 2
		case strings.HasPrefix(g[i:], "**"):
			b.WriteString(".*")
			i++
		case c == '*':
			b.WriteString("[^/]*")
		case c == '?':
			b.WriteString("[^/]")
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	return regexp.Compile(b.String())
}

// packageJSONAt returns the parsed package.json in dir, or nil. Callers hold
// r.mu.
func (r *resolver) packageJSONAt(dir string) *packageJSON {
	if pj, ok := r.pkgs[dir]; ok {
		return pj
	}
	file := path.Join(dir, "package.json")
	var pj *packageJSON
	if data, ok := r.tree.read(file); ok {
		pj = r.parsePackageJSON(dir, data)
		if pj != nil {
			r.consulted[file] = true
		}
	}
	r.pkgs[dir] = pj
	return pj
}

// nearestPackageJSON is the package.json of the innermost package holding
// dir, as Node finds it for "type", "browser" and "sideEffects".
func (r *resolver) nearestPackageJSON(dir string) *packageJSON {
	for {
		if pj := r.packageJSONAt(dir); pj != nil {
			return pj
		}
		if dir == "" {
			return nil
		}
		dir = parentDir(dir)
	}
}
