package bundler

// esbuild's parsers are recursive descent with no depth limit, and Go
// ends the whole process when a goroutine's stack passes 1 GB: a pushed
// file of 600 KB of "a=a=a=...", or 1 MB of "[[[[", would take the server
// down with it. Modules are checked before esbuild sees them.
//
// Small modules are safe by size: each level of recursion needs at least
// one byte of source and, measured on esbuild 0.28.2, at most about 3.3 KB
// of stack (assignment chains are the worst found), so a module under
// safeDepthBytes cannot reach the limit. Larger modules are scanned by
// nestingDepth, which over-estimates the parser's depth cheaply.

const (
	// safeDepthBytes: below this, a module's recursion depth cannot reach
	// the stack limit (64 KB x 3.3 KB = 211 MB of stack at worst).
	safeDepthBytes = 64 << 10
	// maxNesting is the deepest nesting accepted in larger modules: far
	// above real code (minified bundles stay under a few hundred) and far
	// below the ~300,000 levels that exhaust the stack.
	maxNesting = 10000
)

// nestingDepth over-estimates how deeply esbuild's parser recurses on src,
// stopping early once the estimate passes limit. It counts open brackets,
// and within each bracket level the tokens that make the parser recurse
// (prefix operators, assignments, arrows, "?", ":", every "<" since it may
// open JSX or type arguments, and keywords such as if/else/return/new),
// until a ";" or "," ends the run. Strings, templates, comments and regular
// expressions are skipped as a lexer would (a regular expression is
// recognised by what precedes the "/", as in JavaScript's grammar). Binary
// operators that esbuild parses in a loop (+, -, <, ...) after an operand
// do not count.
//
// It is a heuristic, not a parser: a module crafted so that this scan and
// esbuild's lexer disagree about where a string or regular expression ends
// could still hide deep nesting from it. Only running esbuild in a separate
// process would close that; see the package notes.
func nestingDepth(src string, limit int) int {
	type level struct {
		run      int
		template bool // opened by a template's "${"
	}
	stack := []level{{}}
	depth, maxDepth := 0, 0 // depth: open brackets plus the runs of every level
	operand := false        // the previous token ends an operand
	bump := func(n int) {
		stack[len(stack)-1].run += n
		depth += n
		if depth > maxDepth {
			maxDepth = depth
		}
	}
	endRun := func() {
		depth -= stack[len(stack)-1].run
		stack[len(stack)-1].run = 0
	}
	for i := 0; i < len(src) && maxDepth <= limit; i++ {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
		case c == '/' && i+1 < len(src) && src[i+1] == '/':
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(src) && src[i+1] == '*':
			end := indexFrom(src, "*/", i+2)
			if end < 0 {
				return maxDepth
			}
			i = end + 1
		case c == '\'' || c == '"':
			i = skipString(src, i)
			operand = true
		case c == '`':
			// A template's ${...} parts nest like brackets; their text is
			// skipped. Nested templates inside ${} are counted as brackets.
			i = skipTemplateText(src, i+1)
			operand = true
			if i < len(src) && src[i] == '{' { // stopped at "${"
				bump(1)
				stack = append(stack, level{template: true})
				operand = false
			}
		case c == '/' && !operand:
			i = skipRegExp(src, i)
			operand = true
		case c == '(' || c == '[' || c == '{':
			bump(1) // the bracket itself, counted in the enclosing level
			stack = append(stack, level{})
			operand = false
		case c == ')' || c == ']' || c == '}':
			operand = true
			if len(stack) > 1 {
				endRun()
				closed := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				// The bracket stays counted in the enclosing level's run
				// until that run ends, as the construct may continue.
				if c == '}' && closed.template {
					i = skipTemplateText(src, i+1) // the rest of the template
					if i < len(src) && src[i] == '{' {
						bump(1)
						stack = append(stack, level{template: true})
						operand = false
					}
				}
			}
		case c == ';' || c == ',':
			endRun()
			operand = false
		case isIdentByte(c) || c >= 0x80:
			j := i
			for j < len(src) && (isIdentByte(src[j]) || src[j] >= 0x80) {
				j++
			}
			switch src[i:j] {
			case "if", "else", "for", "while", "do", "with", "return", "throw", "typeof", "void",
				"delete", "await", "yield", "new", "case", "in", "of", "instanceof", "extends", "keyof", "infer":
				bump(1)
				operand = false
			default:
				operand = true
			}
			i = j - 1
		case c == '=':
			switch {
			case i+1 < len(src) && src[i+1] == '>': // =>
				bump(1)
				i++
			case i+1 < len(src) && src[i+1] == '=': // == ===
				for i+1 < len(src) && src[i+1] == '=' {
					i++
				}
			default: // = and the ends of +=, ||=, ...
				bump(1)
			}
			operand = false
		case c == '!' || c == '~' || c == '?' || c == ':' || c == '@' || c == '<':
			// Prefix operators, ternaries, labels, decorators, and "<",
			// which may open JSX or nested type arguments.
			if c == '!' && i+1 < len(src) && src[i+1] == '=' {
				i++ // != and !== are comparisons
			} else {
				bump(1)
			}
			operand = false
		case c == '+' || c == '-' || c == '*':
			if !operand || (c == '*' && i+1 < len(src) && src[i+1] == '*') {
				bump(1) // a prefix + or -, or right-associative **
			}
			operand = false
		default:
			operand = false
		}
	}
	return maxDepth
}

func indexFrom(s, sub string, from int) int {
	for i := from; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

// skipString returns the index of the closing quote of the string opening
// at i (or the end of the line or input, for an unterminated one).
func skipString(src string, i int) int {
	q := src[i]
	for i++; i < len(src); i++ {
		switch src[i] {
		case '\\':
			i++
		case q, '\n':
			return i
		}
	}
	return len(src)
}

// skipTemplateText returns the index of the closing backtick, or of the
// "{" of a "${" that starts a substitution.
func skipTemplateText(src string, i int) int {
	for ; i < len(src); i++ {
		switch src[i] {
		case '\\':
			i++
		case '`':
			return i
		case '$':
			if i+1 < len(src) && src[i+1] == '{' {
				return i + 1
			}
		}
	}
	return len(src)
}

// skipRegExp returns the index of the "/" that ends the regular expression
// opening at i (character classes may hold "/"), or the end of the line.
func skipRegExp(src string, i int) int {
	inClass := false
	for i++; i < len(src); i++ {
		switch src[i] {
		case '\\':
			i++
		case '[':
			inClass = true
		case ']':
			inClass = false
		case '/':
			if !inClass {
				return i
			}
		case '\n':
			return i
		}
	}
	return len(src)
}
