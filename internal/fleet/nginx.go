// Package fleet runs what a multi-replica deployment puts in front of
// mmtoolkit, for the replica test and benchmarks: Debian's nginx as a
// foreground process with a configuration, pid file, logs and temp
// directories of its own in a temporary directory, load-balancing loopback
// replicas (websockets included). No system nginx service is used or
// assumed.
package fleet

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// ErrNoNginx says the nginx binary was not found.
var ErrNoNginx = errors.New("fleet: nginx not found (install Debian's nginx package; make test does: scripts/server-deps.sh)")

// FindNginx returns the nginx binary: $NGINX_BIN, nginx on PATH, or
// /usr/sbin/nginx (not on a non-root user's PATH on Debian).
func FindNginx() (string, error) {
	if p := os.Getenv("NGINX_BIN"); p != "" {
		return p, nil
	}
	if p, err := exec.LookPath("nginx"); err == nil {
		return p, nil
	}
	if st, err := os.Stat("/usr/sbin/nginx"); err == nil && st.Mode()&0o111 != 0 {
		return "/usr/sbin/nginx", nil
	}
	return "", ErrNoNginx
}

// Nginx is a running nginx balancing requests over replicas.
type Nginx struct {
	// URL is http://127.0.0.1:<port>.
	URL  string
	dir  string
	cmd  *exec.Cmd
	exit chan struct{}
}

// Options adjust StartNginx.
type Options struct {
	// Workers is nginx's worker_processes; 0 means 1.
	Workers int
}

// StartNginx runs nginx on a free loopback port in front of backends
// (host:port each), round robin, with keep-alive connections to them and
// websocket upgrades passed through. A backend that refuses a connection
// is skipped (proxy_next_upstream error), as a replica that died would be
// by any load balancer; requests are passed unbuffered both ways. It
// returns once nginx accepts connections.
func StartNginx(backends []string, opts Options) (*Nginx, error) {
	bin, err := FindNginx()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "mmtoolkit-nginx")
	if err != nil {
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		n, err := startNginx(bin, dir, backends, opts)
		if err == nil {
			return n, nil
		}
		// Another process may take the port between choosing and binding it.
		if attempt == 4 || !strings.Contains(err.Error(), "Address already in use") {
			os.RemoveAll(dir)
			return nil, err
		}
	}
}

func startNginx(bin, dir string, backends []string, opts Options) (*Nginx, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	conf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, []byte(Config(dir, addr, backends, opts)), 0o644); err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "-p", dir, "-c", conf, "-e", filepath.Join(dir, "error.log"))
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("fleet: start nginx: %w", err)
	}
	n := &Nginx{URL: "http://" + addr, dir: dir, cmd: cmd, exit: make(chan struct{})}
	go func() { cmd.Wait(); close(n.exit) }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return n, nil
		}
		select {
		case <-n.exit:
			log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			return nil, fmt.Errorf("fleet: nginx exited at start: %s", log)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			n.Stop()
			return nil, fmt.Errorf("fleet: nginx did not listen on %s in 30 s", addr)
		}
	}
}

// Config is the nginx.conf StartNginx writes: everything under dir, in the
// foreground, listening on addr.
func Config(dir, addr string, backends []string, opts Options) string {
	workers := max(opts.Workers, 1)
	var b strings.Builder
	fmt.Fprintf(&b, "daemon off;\nworker_processes %d;\npid %s;\nerror_log %s warn;\n",
		workers, filepath.Join(dir, "nginx.pid"), filepath.Join(dir, "error.log"))
	if os.Geteuid() == 0 {
		// As root, workers would switch to nobody, who cannot enter the
		// private temporary directory.
		b.WriteString("user root;\n")
	}
	b.WriteString("events { worker_connections 8192; }\nhttp {\n\taccess_log off;\n")
	for _, t := range []string{"client_body", "proxy", "fastcgi", "uwsgi", "scgi"} {
		fmt.Fprintf(&b, "\t%s_temp_path %s;\n", t, filepath.Join(dir, t))
	}
	b.WriteString("\tclient_max_body_size 0;\n\tupstream replicas {\n")
	for _, be := range backends {
		fmt.Fprintf(&b, "\t\tserver %s max_fails=1 fail_timeout=2s;\n", be)
	}
	b.WriteString("\t\tkeepalive 64;\n\t}\n")
	b.WriteString("\tmap $http_upgrade $connection_upgrade { default upgrade; '' ''; }\n")
	fmt.Fprintf(&b, "\tserver {\n\t\tlisten %s;\n", addr)
	b.WriteString(`		location / {
			proxy_pass http://replicas;
			proxy_http_version 1.1;
			proxy_set_header Host $http_host;
			proxy_set_header Upgrade $http_upgrade;
			proxy_set_header Connection $connection_upgrade;
			proxy_set_header X-Forwarded-For $remote_addr;
			proxy_buffering off;
			proxy_request_buffering off;
			proxy_read_timeout 1h;
			proxy_send_timeout 1h;
			proxy_next_upstream error timeout http_502;
			proxy_connect_timeout 2s;
		}
	}
}
`)
	return b.String()
}

// Pid is the nginx master's process id.
func (n *Nginx) Pid() int { return n.cmd.Process.Pid }

// Stop ends nginx (a fast shutdown) and removes its directory.
func (n *Nginx) Stop() {
	n.cmd.Process.Signal(os.Interrupt) // SIGINT: fast shutdown
	select {
	case <-n.exit:
	case <-time.After(10 * time.Second):
		n.cmd.Process.Kill()
		<-n.exit
	}
	os.RemoveAll(n.dir)
}
