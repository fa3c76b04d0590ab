package server

import (
	"io"
	"io/fs"
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
