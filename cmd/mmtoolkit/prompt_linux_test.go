package main

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

// openPTY opens a pseudo-terminal pair: what the command reads as its
// terminal (slave) and what a person types into (master).
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return m, s
}

// TestPasswordPromptOnATerminal: with a user and no password, on a
// terminal the command asks for it with echo off, and logs in with what
// was typed.
func TestPasswordPromptOnATerminal(t *testing.T) {
	e := newCLIEnv(t)
	t.Setenv("MMTOOLKIT_PASSWORD", "")
	master, slave := openPTY(t)
	defer func(f *os.File) { os.Stdin = f }(os.Stdin)
	os.Stdin = slave
	stdinIsTerminal = func() bool { return term.IsTerminal(int(os.Stdin.Fd())) } // the real check, on the pty

	typed := make(chan error, 1)
	go func() {
		// Type once the prompt turned echo off, as a person would after
		// reading it.
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
			tio, err := unix.IoctlGetTermios(int(slave.Fd()), unix.TCGETS)
			if err != nil {
				typed <- err
				return
			}
			if tio.Lflag&unix.ECHO == 0 {
				_, err := master.Write([]byte("mmtoolkit\n"))
				typed <- err
				return
			}
		}
		typed <- fmt.Errorf("echo never turned off")
	}()
	code, out, errOut := e.as("dev", "plugins")
	if err := <-typed; err != nil {
		t.Fatal(err)
	}
	if code != 0 {
		t.Fatalf("exit %d: %s %s", code, out, errOut)
	}
	// What the terminal showed: never the password. (A pty master has no
	// read deadline: read what is there without blocking.)
	fd := int(master.Fd())
	if err := unix.SetNonblock(fd, true); err != nil {
		t.Fatal(err)
	}
	var shown bytes.Buffer
	buf := make([]byte, 256)
	for {
		n, err := unix.Read(fd, buf)
		if n <= 0 || err != nil {
			break
		}
		shown.Write(buf[:n])
	}
	if strings.Contains(shown.String(), "mmtoolkit") {
		t.Errorf("the password was echoed: %q", shown.String())
	}
}
