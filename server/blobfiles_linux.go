package server

import (
	"container/list"
	"io"
	"io/fs"
	"sync"
	"syscall"
)

// fdFile is a read-only file as a bare descriptor: opening and closing it
// is one system call each, without the poller registration and cleanup an
// *os.File costs on every bundle request. net's sendfile path needs only
// its syscall.Conn.
type fdFile int

func openBlob(path string) (fdFile, error) {
	for {
		fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return -1, &fs.PathError{Op: "open", Path: path, Err: err}
		}
		return fdFile(fd), nil
	}
}

func (f fdFile) Read(p []byte) (int, error) {
	for {
		n, err := syscall.Read(int(f), p)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return 0, err
		}
		if n == 0 && len(p) > 0 {
			return 0, io.EOF
		}
		return n, nil
	}
}

func (f fdFile) Close() error { return syscall.Close(int(f)) }

// SyscallConn lets net.TCPConn.ReadFrom send the file with sendfile(2).
func (f fdFile) SyscallConn() (syscall.RawConn, error) { return rawFD(f), nil }

// rawFD is the syscall.RawConn of a blocking regular file: there is nothing
// to wait for, so each callback runs once.
type rawFD int

func (r rawFD) Control(fn func(fd uintptr)) error { fn(uintptr(r)); return nil }

func (r rawFD) Read(fn func(fd uintptr) bool) error {
	fn(uintptr(r))
	return nil
}

func (r rawFD) Write(fn func(fd uintptr) bool) error {
	fn(uintptr(r))
	return nil
}

// maxOpenBlobs bounds the blob files kept open for the fast lane's
// sendfile at an offset; the least recently used idle one is closed first.
const maxOpenBlobs = 256

// openFiles keeps blob files open between requests: each answer sends from
// a shared descriptor at its own offset, without an open and a close.
type openFiles struct {
	mu sync.Mutex
	m  map[string]*openFile
	ll list.List // front: most recently used
}

type openFile struct {
	sha     string
	fd      fdFile
	refs    int
	dropped bool // out of the map: close when the last user is done
	el      *list.Element
}

// acquire returns sha's open file, opening it if needed; release it after.
func (o *openFiles) acquire(path, sha string) (*openFile, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if of, ok := o.m[sha]; ok {
		of.refs++
		o.ll.MoveToFront(of.el)
		return of, nil
	}
	fd, err := openBlob(path)
	if err != nil {
		return nil, err
	}
	if o.m == nil {
		o.m = map[string]*openFile{}
	}
	of := &openFile{sha: sha, fd: fd, refs: 1}
	of.el = o.ll.PushFront(of)
	o.m[sha] = of
	for el := o.ll.Back(); len(o.m) > maxOpenBlobs && el != nil; {
		prev := el.Prev()
		if old := el.Value.(*openFile); old.refs == 0 {
			o.drop(old)
		}
		el = prev
	}
	return of, nil
}

func (o *openFiles) release(of *openFile) {
	o.mu.Lock()
	defer o.mu.Unlock()
	of.refs--
	if of.dropped && of.refs == 0 {
		of.fd.Close()
	}
}

// forget closes sha's descriptor (its file went missing or is replaced)
// once nobody sends from it.
func (o *openFiles) forget(sha string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if of, ok := o.m[sha]; ok {
		o.drop(of)
	}
}

// drop takes of out of the map, closing it if unused; o.mu is held.
func (o *openFiles) drop(of *openFile) {
	delete(o.m, of.sha)
	o.ll.Remove(of.el)
	of.dropped = true
	if of.refs == 0 {
		of.fd.Close()
	}
}

func (o *openFiles) closeAll() {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, of := range o.m {
		o.drop(of)
	}
}

func (of *openFile) descriptor() int { return int(of.fd) }
