package server

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func TestOpenFilesBoundAndLifetime(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var o openFiles
	path := func(i int) string { return filepath.Join(dir, fmt.Sprint(i)) }
	for i := 0; i < maxOpenBlobs+44; i++ {
		os.WriteFile(path(i), []byte(fmt.Sprint(i)), 0o644)
		of, err := o.acquire(path(i), fmt.Sprint(i))
		if err != nil {
			t.Fatal(err)
		}
		o.release(of)
	}
	if len(o.m) != maxOpenBlobs || o.ll.Len() != maxOpenBlobs {
		t.Fatalf("%d files open (list %d), want the bound %d", len(o.m), o.ll.Len(), maxOpenBlobs)
	}
	if _, ok := o.m["0"]; ok {
		t.Error("the least recently used file is still open")
	}

	// A file forgotten while an answer sends from it stays open until
	// that answer releases it, then closes.
	os.WriteFile(path(300), []byte("300"), 0o644)
	of, err := o.acquire(path(300), "300")
	if err != nil {
		t.Fatal(err)
	}
	o.forget("300")
	buf := make([]byte, 8)
	if n, err := syscall.Pread(of.descriptor(), buf, 0); err != nil || string(buf[:n]) != "300" {
		t.Fatalf("a held descriptor was closed under its user: %q %v", buf[:n], err)
	}
	again, err := o.acquire(path(300), "300")
	if err != nil || again == of {
		t.Fatalf("after forget, acquire must open anew: %v", err)
	}
	o.release(again)
	o.release(of)
	if _, err := syscall.Pread(of.descriptor(), buf, 0); err == nil && of.descriptor() != again.descriptor() {
		// the number may have been reused by the second open; otherwise it must be closed
		t.Error("a forgotten descriptor is still open after its last release")
	}
	o.closeAll()
	if len(o.m) != 0 {
		t.Errorf("%d files open after closeAll", len(o.m))
	}
}
