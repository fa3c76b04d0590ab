package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/mmtoolkit/mmtoolkit/apiv4-proxy/sandbox"
	"github.com/mmtoolkit/mmtoolkit/server"
	"github.com/mmtoolkit/mmtoolkit/webapp/embedexample"
)

// exampleEmbedApp is the example app's id (26 characters a-z0-9, as every
// app id): fixed, so docs/embed.md can name it. Its secret is new at each
// start and lives only in this process.
const exampleEmbedApp = "exampleembedapp00000000000"

// startEmbedExample serves docs/embed.md's example site on addr (serve
// --embed-example, sandbox only): it registers the example app for the
// sandbox's engineering team with the site's origin, then serves the site.
// A failure to listen is reported and serve goes on without the example:
// some systems route only 127.0.0.1 of the loopback network (macOS).
func startEmbedExample(srv *server.Server, addr, mmURL string, stdout io.Writer, log *slog.Logger) (stop func()) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintf(stdout, "embed example not started: listen on %s: %v (on macOS: sudo ifconfig lo0 alias 127.0.0.2, or choose another --embed-example)\n", addr, err)
		return func() {}
	}
	origin := "http://" + ln.Addr().String()
	secret := server.NewEmbedSecret()
	spec := server.EmbedAppSpec{Name: "Example app", Origins: []string{origin}, Teams: []string{sandbox.SeedID("team", "engineering")}}
	if err := srv.RegisterEmbedApp(context.Background(), exampleEmbedApp, secret, spec); err != nil {
		ln.Close()
		fmt.Fprintf(stdout, "embed example not started: %v\n", err)
		return func() {}
	}
	hs := &http.Server{
		Handler: embedexample.Handler(embedexample.Config{
			Server: mmURL, App: exampleEmbedApp, Secret: secret,
			Channel: sandbox.SeedID("channel", "engineering/town-square"), Other: sandbox.SeedID("channel", "engineering/dev-talk"),
			Users: []string{"bob", "alice", "dev"},
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() {
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("embed example", "err", err)
		}
	}()
	fmt.Fprintf(stdout, "embed example (docs/embed.md): %s/ shows engineering's Town Square from %s (app %s)\n", origin, mmURL, exampleEmbedApp)
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		hs.Shutdown(ctx)
	}
}
