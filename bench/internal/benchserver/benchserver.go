// Package benchserver starts a `mmtoolkit serve` process for benchmarks and
// logs sandbox users in.
package benchserver

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
)

// Server is a running mmtoolkit with its own temporary data directory.
type Server struct {
	URL  string
	Pid  int
	cmd  *exec.Cmd
	data string
}

var serving = regexp.MustCompile(`serving on (http://\S+)`)

// Start runs `bin serve --addr 127.0.0.1:0 --data <temp> args...` and waits
// for the URL it prints.
func Start(bin string, args ...string) (*Server, error) {
	data, err := os.MkdirTemp("", "mmtoolkit-bench")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0", "--data", data, "--reference-plugins=false"}, args...)...)
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		os.RemoveAll(data)
		return nil, err
	}
	s := &Server{Pid: cmd.Process.Pid, cmd: cmd, data: data}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if m := serving.FindStringSubmatch(sc.Text()); m != nil {
			s.URL = m[1]
			go io.Copy(io.Discard, out)
			return s, nil
		}
	}
	s.Stop()
	return nil, fmt.Errorf("benchserver: %s did not print its URL", bin)
}

// Stop kills the server and removes its data.
func (s *Server) Stop() {
	s.cmd.Process.Kill()
	s.cmd.Wait()
	os.RemoveAll(s.data)
}

// Login returns a sandbox user's token (password "mmtoolkit").
func (s *Server) Login(user string) (string, error) {
	resp, err := http.Post(s.URL+"/api/v4/users/login", "application/json",
		strings.NewReader(`{"login_id":"`+user+`","password":"mmtoolkit"}`))
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("benchserver: login %s: %s", user, resp.Status)
	}
	return resp.Header.Get("Token"), nil
}
