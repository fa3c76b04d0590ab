package bundler

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// Hostile sources (issue #8, "Sources"): each builds or fails with a
// diagnostic, in bounded time, and never takes the process down. Syntax
// errors, imports of node:fs and absolute paths are pinned by
// TestBuildErrorsGolden; deep syntactic nesting by TestDeepNestingRejected.

// buildWithin runs Build on another goroutine and fails the test if it has
// not returned within d.
func buildWithin(t *testing.T, d time.Duration, files map[string]string) (*Result, error, time.Duration) {
	t.Helper()
	type out struct {
		res *Result
		err error
	}
	done := make(chan out, 1)
	start := time.Now()
	go func() {
		res, err := Build(memPackage("index.tsx", "", files), Web)
		done <- out{res, err}
	}()
	select {
	case o := <-done:
		return o.res, o.err, time.Since(start)
	case <-time.After(d):
		t.Fatalf("Build still running after %v", d)
		return nil, nil, 0
	}
}

// TestInfiniteTypeRecursion: types that would send a type checker into
// unbounded recursion (self-expanding generics, circular conditional and
// mapped types, mutually extending interfaces) are erased by esbuild
// without being evaluated, so the plugin compiles at once, and nothing of
// them is left in the bundle.
func TestInfiniteTypeRecursion(t *testing.T) {
	src := `
type Grow<T> = {next: Grow<Grow<[T, T]>>};
type Explode<T extends unknown[]> = T extends [infer H, ...infer R] ? Explode<[H, H, ...R, ...T]> : Explode<[T]>;
type Self = Self extends infer X ? X : never;
type DeepKeys<T> = {[K in keyof T]: K | DeepKeys<T[K]>}[keyof T];
type Loop<N extends number, A extends unknown[] = []> = A['length'] extends N ? A : Loop<N, [...A, ...A, 0]>;
type Big = Loop<99999999>;
interface A extends B { a: A }
interface B extends A { b: B }
declare const g: Grow<Explode<[1]>>;
function id<T extends DeepKeys<Big>>(x: T): Self { return x as unknown as Self; }
window.registerPlugin('com.example.types', {initialize() { (window as any).ok = id<never>(undefined as never) ?? 'compiled'; }});
`
	res, err, took := buildWithin(t, 20*time.Second, map[string]string{"index.tsx": src})
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	if took > 5*time.Second {
		t.Errorf("took %v for a few lines", took)
	}
	for _, typeName := range []string{"Grow", "Explode", "DeepKeys", "Loop", "interface"} {
		if strings.Contains(string(res.JS), typeName) {
			t.Errorf("the bundle still mentions %s:\n%s", typeName, res.JS)
		}
	}
	t.Logf("built in %v", took.Round(time.Millisecond))
}

// TestTwentyMegabyteSource: a 20 MB module (within the package limits:
// 300 MiB unpacked) builds in bounded time; a 20 MB module with an error at
// its end is reported at the right line.
func TestTwentyMegabyteSource(t *testing.T) {
	if testing.Short() {
		t.Skip("builds 20 MB")
	}
	const size = 20 << 20
	var b strings.Builder
	b.Grow(size + 1024)
	b.WriteString("const table: Record<string, {n: number; s: string}> = {\n")
	lines := 1
	for i := 0; b.Len() < size; i++ {
		fmt.Fprintf(&b, "  k%d: {n: %d, s: 'value number %d, long enough to weigh a little'},\n", i, i, i)
		lines++
	}
	b.WriteString("};\nwindow.registerPlugin('com.example.big', {initialize() { (window as any).n = Object.keys(table).length; }});\n")
	lines += 2
	src := b.String()

	res, err, took := buildWithin(t, 120*time.Second, map[string]string{"index.tsx": src})
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	if len(res.JS) < size/4 {
		t.Errorf("bundle is %d bytes, from %d of source", len(res.JS), len(src))
	}
	t.Logf("%d MB of source built in %v to %d MB", len(src)>>20, took.Round(time.Millisecond), len(res.JS)>>20)

	broken := src + "const oops = ;\n"
	_, err, took2 := buildWithin(t, 120*time.Second, map[string]string{"index.tsx": broken})
	ce, ok := err.(*CompileError)
	if !ok || len(ce.Diagnostics) == 0 || ce.Diagnostics[0].Line != lines+1 {
		t.Fatalf("error at the end of 20 MB: %v (want line %d)", err, lines+1)
	}
	t.Logf("the broken one failed in %v: %s", took2.Round(time.Millisecond), ce.Diagnostics[0])
}
