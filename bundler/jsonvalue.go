package bundler

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
)

// jsonValue is a JSON value that keeps object keys in source order.
// package.json "exports" and "imports" need it: Node picks the first
// matching condition in the order the package author wrote them, an order
// that encoding/json's maps throw away.
type jsonValue struct {
	kind jsonKind
	str  string
	arr  []jsonValue
	obj  []jsonMember
}

type jsonMember struct {
	key   string
	value jsonValue
}

type jsonKind int

const (
	jsonNull jsonKind = iota
	jsonString
	jsonArray
	jsonObject
	jsonOther // numbers and booleans: never meaningful in exports maps
)

// parseOrderedJSON parses raw (one JSON value) keeping object key order.
func parseOrderedJSON(raw []byte) (jsonValue, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	v, err := decodeOrdered(dec)
	if err != nil {
		return jsonValue{}, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return jsonValue{}, fmt.Errorf("unexpected data after JSON value")
	}
	return v, nil
}

func decodeOrdered(dec *json.Decoder) (jsonValue, error) {
	tok, err := dec.Token()
	if err != nil {
		return jsonValue{}, err
	}
	switch t := tok.(type) {
	case nil:
		return jsonValue{kind: jsonNull}, nil
	case string:
		return jsonValue{kind: jsonString, str: t}, nil
	case json.Delim:
		switch t {
		case '[':
			v := jsonValue{kind: jsonArray}
			for dec.More() {
				e, err := decodeOrdered(dec)
				if err != nil {
					return jsonValue{}, err
				}
				v.arr = append(v.arr, e)
			}
			_, err := dec.Token() // ]
			return v, err
		case '{':
			v := jsonValue{kind: jsonObject}
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return jsonValue{}, err
				}
				key, _ := k.(string)
				e, err := decodeOrdered(dec)
				if err != nil {
					return jsonValue{}, err
				}
				v.obj = append(v.obj, jsonMember{key: key, value: e})
			}
			_, err := dec.Token() // }
			return v, err
		}
		return jsonValue{}, fmt.Errorf("unexpected %v", t)
	default:
		return jsonValue{kind: jsonOther}, nil
	}
}

// get returns the member named key of an object.
func (v jsonValue) get(key string) (jsonValue, bool) {
	for _, m := range v.obj {
		if m.key == key {
			return m.value, true
		}
	}
	return jsonValue{}, false
}

// stripJSONC turns tsconfig-style JSON (comments, trailing commas) into
// strict JSON that encoding/json accepts. TypeScript parses tsconfig.json
// leniently, and real plugins' configs are full of comments.
func stripJSONC(src []byte) []byte {
	out := make([]byte, 0, len(src))
	inString := false
	for i := 0; i < len(src); i++ {
		c := src[i]
		if inString {
			out = append(out, c)
			if c == '\\' && i+1 < len(src) {
				i++
				out = append(out, src[i])
			} else if c == '"' {
				inString = false
			}
			continue
		}
		switch {
		case c == '"':
			inString = true
			out = append(out, c)
		case c == '/' && i+1 < len(src) && src[i+1] == '/':
			for i < len(src) && src[i] != '\n' {
				i++
			}
			if i < len(src) {
				out = append(out, '\n')
			}
		case c == '/' && i+1 < len(src) && src[i+1] == '*':
			i += 2
			for i+1 < len(src) && !(src[i] == '*' && src[i+1] == '/') {
				if src[i] == '\n' {
					out = append(out, '\n') // keep line numbers for error messages
				}
				i++
			}
			i++ // at '/'
			out = append(out, ' ')
		case c == ']' || c == '}':
			// Drop a trailing comma before the closing bracket.
			j := len(out) - 1
			for j >= 0 && isJSONSpace(out[j]) {
				j--
			}
			if j >= 0 && out[j] == ',' {
				out[j] = ' '
			}
			out = append(out, c)
		default:
			out = append(out, c)
		}
	}
	// A byte-order mark is not JSON either.
	return bytes.TrimPrefix(out, []byte("\xef\xbb\xbf"))
}

func isJSONSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r'
}
