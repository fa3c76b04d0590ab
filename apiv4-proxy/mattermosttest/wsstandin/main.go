// Command wsstandin runs the Go stand-in Mattermost (mattermosttest) as a
// process, with its websocket, for the Node tests that drive Mattermost's
// own websocket client (@mattermost/client's WebSocketClient) through
// mmtoolkit serve --upstream (webapp/e2e/team_plugins.test.mjs).
//
// It makes users admin (system admin), alice (teams alpha and beta) and
// bob (beta), a channel in each team, and prints one JSON line:
//
//	{"url":..., "tokens":{"admin":...,"alice":...,"bob":...},
//	 "teams":{"alpha":...,"beta":...}, "channels":{"alpha":...,"beta":...}}
//
// then reads commands from stdin, one a line, answering "ok <command>"
// (or "error ...") on stdout:
//
//	posted                     broadcast a "posted" event to everyone
//	drop                       break every websocket (a network failure)
//	install <id> <version>     install and enable a plugin with a webapp
//	disable <id>               disable it (plugin_disabled)
//
// It stops at the end of stdin, or on SIGINT or SIGTERM.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/mmtoolkit/mmtoolkit/apiv4-proxy/mattermosttest"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "wsstandin:", err)
		os.Exit(1)
	}
}

func run() error {
	mm, err := mattermosttest.Start()
	if err != nil {
		return err
	}
	defer mm.Close()
	mm.EnableWebsocket()
	admin := mm.AddUser("admin", "system_user system_admin")
	alice := mm.AddUser("alice", "")
	bob := mm.AddUser("bob", "")
	alpha := mm.AddTeam("alpha", false)
	beta := mm.AddTeam("beta", false)
	for _, m := range [][2]string{{alpha.ID, alice.ID}, {beta.ID, alice.ID}, {beta.ID, bob.ID}, {alpha.ID, admin.ID}, {beta.ID, admin.ID}} {
		mm.AddMember(m[0], m[1], "")
	}
	ca := mm.AddChannel(alpha.ID, "town-square", alice.ID, admin.ID)
	cb := mm.AddChannel(beta.ID, "town-square", alice.ID, bob.ID, admin.ID)
	out, _ := json.Marshal(map[string]any{
		"url":      mm.URL(),
		"tokens":   map[string]string{"admin": mm.Token(admin), "alice": mm.Token(alice), "bob": mm.Token(bob)},
		"teams":    map[string]string{"alpha": alpha.ID, "beta": beta.ID},
		"channels": map[string]string{"alpha": ca.ID, "beta": cb.ID},
	})
	fmt.Println(string(out))

	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	for {
		select {
		case <-sig:
			return nil
		case line, ok := <-lines:
			if !ok {
				return nil
			}
			if err := command(mm, strings.Fields(line)); err != nil {
				fmt.Println("error", err)
			} else {
				fmt.Println("ok", line)
			}
		}
	}
}

func command(mm *mattermosttest.Mattermost, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("empty command")
	}
	switch {
	case args[0] == "posted":
		mm.BroadcastEvent("posted", map[string]any{"post": `{"id":"p"}`}, mattermosttest.Broadcast{})
	case args[0] == "drop":
		mm.DropSockets()
	case args[0] == "install" && len(args) == 3:
		id, version := args[1], args[2]
		manifest := fmt.Sprintf(`{"id":%q,"name":%q,"version":%q,"webapp":{"bundle_path":"webapp/dist/main.js"},"settings_schema":{"header":"on Mattermost"}}`, id, id, version)
		bundle := fmt.Sprintf(`window.registerPlugin(%q, {initialize() { (window.initialized = window.initialized || []).push(%q); }});`, id, id+"@mattermost")
		mm.InstallPlugin([]byte(manifest), []byte(bundle))
	case args[0] == "disable" && len(args) == 2:
		if !mm.SetPluginEnabled(args[1], false) {
			return fmt.Errorf("no plugin %s", args[1])
		}
	default:
		return fmt.Errorf("unknown command %q", strings.Join(args, " "))
	}
	return nil
}
