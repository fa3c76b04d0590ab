package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// modulePath is the module whose packages the generator reads from source.
const modulePath = "github.com/mmtoolkit/mmtoolkit"

// goSource reads the Go side of the contracts from source, not through
// reflection, so that unexported wire types of the HTTP edge
// (server.pluginEventData) and their doc comments are read where they are
// declared, without exporting them for the generator's sake.
type goSource struct {
	root string
	pkgs map[string]*goPackage // by directory relative to root ("slots")
}

// goPackage is one parsed package: its non-test files.
type goPackage struct {
	dir    string
	types  map[string]typeDecl
	consts map[string]constDecl
	// constsOf lists a named type's constants in source order.
	constsOf map[string][]string
}

type typeDecl struct {
	spec *ast.TypeSpec
	doc  string
	file *ast.File
}

type constDecl struct {
	value string // the Go string value
	typ   string // the named type, "" when untyped
	doc   string
}

func newGoSource(root string) *goSource {
	return &goSource{root: root, pkgs: map[string]*goPackage{}}
}

// pkg parses the package in dir (relative to the module root) once.
func (s *goSource) pkg(dir string) (*goPackage, error) {
	if p, ok := s.pkgs[dir]; ok {
		return p, nil
	}
	full := filepath.Join(s.root, filepath.FromSlash(dir))
	ents, err := os.ReadDir(full)
	if err != nil {
		return nil, fmt.Errorf("contractgen: read package %s: %w", dir, err)
	}
	var names []string
	for _, e := range ents {
		n := e.Name()
		if !e.IsDir() && strings.HasSuffix(n, ".go") && !strings.HasSuffix(n, "_test.go") {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	p := &goPackage{dir: dir, types: map[string]typeDecl{}, consts: map[string]constDecl{}, constsOf: map[string][]string{}}
	fset := token.NewFileSet()
	for _, n := range names {
		f, err := parser.ParseFile(fset, filepath.Join(full, n), nil, parser.ParseComments)
		if err != nil {
			return nil, fmt.Errorf("contractgen: parse %s/%s: %w", dir, n, err)
		}
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok {
				continue
			}
			switch gd.Tok {
			case token.TYPE:
				for _, sp := range gd.Specs {
					ts := sp.(*ast.TypeSpec)
					doc := ts.Doc
					if doc == nil && len(gd.Specs) == 1 {
						doc = gd.Doc
					}
					p.types[ts.Name.Name] = typeDecl{spec: ts, doc: doc.Text(), file: f}
				}
			case token.CONST:
				for _, sp := range gd.Specs {
					vs := sp.(*ast.ValueSpec)
					typ := ""
					if id, ok := vs.Type.(*ast.Ident); ok {
						typ = id.Name
					}
					for i, name := range vs.Names {
						if i >= len(vs.Values) {
							continue
						}
						lit, ok := vs.Values[i].(*ast.BasicLit)
						if !ok || lit.Kind != token.STRING {
							continue
						}
						v, err := strconv.Unquote(lit.Value)
						if err != nil {
							continue
						}
						doc := vs.Doc.Text()
						if doc == "" {
							doc = vs.Comment.Text()
						}
						p.consts[name.Name] = constDecl{value: v, typ: typ, doc: doc}
						if typ != "" {
							p.constsOf[typ] = append(p.constsOf[typ], name.Name)
						}
					}
				}
			}
		}
	}
	s.pkgs[dir] = p
	return p, nil
}

// constValue is the string value of constant name of package dir.
func (s *goSource) constValue(dir, name string) (constDecl, error) {
	p, err := s.pkg(dir)
	if err != nil {
		return constDecl{}, err
	}
	c, ok := p.consts[name]
	if !ok {
		return constDecl{}, fmt.Errorf("contractgen: %s has no string constant %s", dir, name)
	}
	return c, nil
}

// goRef names a Go type of the module: package directory and type name.
type goRef struct {
	Dir, Name string
}

func (r goRef) String() string { return r.Dir + "." + r.Name }

// field is one JSON field of a struct, as encoding/json writes it.
type field struct {
	json     string
	goName   string
	optional bool // omitempty
	typ      ast.Expr
	file     *ast.File
	doc      string
}

// fields lists the JSON fields of struct type t, embedded structs
// flattened as encoding/json does.
func (s *goSource) fields(t goRef) ([]field, string, error) {
	p, err := s.pkg(t.Dir)
	if err != nil {
		return nil, "", err
	}
	d, ok := p.types[t.Name]
	if !ok {
		return nil, "", fmt.Errorf("contractgen: no type %s", t)
	}
	st, ok := d.spec.Type.(*ast.StructType)
	if !ok {
		return nil, "", fmt.Errorf("contractgen: %s is not a struct", t)
	}
	var out []field
	for _, f := range st.Fields.List {
		tag := ""
		if f.Tag != nil {
			raw, _ := strconv.Unquote(f.Tag.Value)
			tag = reflect.StructTag(raw).Get("json")
		}
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		doc := f.Doc.Text()
		if doc == "" {
			doc = f.Comment.Text()
		}
		if len(f.Names) == 0 { // embedded
			if name != "" {
				return nil, "", fmt.Errorf("contractgen: %s: tagged embedded field not supported", t)
			}
			id, ok := f.Type.(*ast.Ident)
			if !ok {
				return nil, "", fmt.Errorf("contractgen: %s: embedded field of another package not supported", t)
			}
			inner, _, err := s.fields(goRef{t.Dir, id.Name})
			if err != nil {
				return nil, "", err
			}
			out = append(out, inner...)
			continue
		}
		for _, n := range f.Names {
			if !n.IsExported() {
				continue
			}
			j := name
			if j == "" {
				j = n.Name
			}
			out = append(out, field{json: j, goName: n.Name, optional: strings.Contains(","+opts+",", ",omitempty,"),
				typ: f.Type, file: d.file, doc: doc})
		}
	}
	return out, d.doc, nil
}

// importDir resolves a package name used in file f to its directory
// relative to the module root, or to its import path outside the module
// (prefixed "std:").
func importDir(f *ast.File, pkgName string) (string, error) {
	for _, im := range f.Imports {
		path, _ := strconv.Unquote(im.Path.Value)
		name := path[strings.LastIndex(path, "/")+1:]
		if im.Name != nil {
			name = im.Name.Name
		}
		if name != pkgName {
			continue
		}
		if rest, ok := strings.CutPrefix(path, modulePath+"/"); ok {
			return rest, nil
		}
		return "std:" + path, nil
	}
	return "", fmt.Errorf("contractgen: package %s is not imported", pkgName)
}
