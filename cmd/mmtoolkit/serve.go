package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	apiv4proxy "github.com/mmtoolkit/mmtoolkit/apiv4-proxy"
	"github.com/mmtoolkit/mmtoolkit/apiv4-proxy/sandbox"
	"github.com/mmtoolkit/mmtoolkit/bundler"
	"github.com/mmtoolkit/mmtoolkit/bundler/pluginpkg"
	"github.com/mmtoolkit/mmtoolkit/identity"
	"github.com/mmtoolkit/mmtoolkit/mobile"
	"github.com/mmtoolkit/mmtoolkit/plugins"
	"github.com/mmtoolkit/mmtoolkit/registry"
	"github.com/mmtoolkit/mmtoolkit/server"
)

func cmdServe(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("serve", "[flags]",
		"Runs the server with an embedded bbolt store in --data. Identity and /api/v4 come from\n"+
			"the Mattermost at --upstream, or without it from the in-process sandbox Mattermost\n"+
			"(demo users and teams). Stop it with Ctrl-C.", stderr)
	addr := fs.String("addr", env("MMTOOLKIT_ADDR", "127.0.0.1:8065"), "address to listen on (env MMTOOLKIT_ADDR)")
	data := fs.String("data", env("MMTOOLKIT_DATA", "data"), "data directory, created if missing (env MMTOOLKIT_DATA)")
	storeURL := fs.String("store", env("MMTOOLKIT_STORE", ""),
		"the registry's database (env MMTOOLKIT_STORE): empty for the bbolt file <data>/registry.db; a PostgreSQL URL,\n"+
			"postgres://user:password@host:5432/db, which any number of serve processes may share (--data then only\n"+
			"holds caches); mmtoolkit migrate copies a bbolt registry there")
	upstreamURL := fs.String("upstream", env("MMTOOLKIT_UPSTREAM", ""),
		"base URL of a real Mattermost to front, e.g. https://mm.example.com (env MMTOOLKIT_UPSTREAM);\nwithout it the sandbox Mattermost runs in-process")
	keyPath := fs.String("key", env("MMTOOLKIT_KEY", ""),
		"ed25519 key that signs mobile manifests (mmtoolkit keygen; env MMTOOLKIT_KEY);\ndefault <data>/"+mobile.DefaultKeyFile+", created if missing")
	hermescPath := fs.String("hermesc", env("MMTOOLKIT_HERMESC", ""),
		"hermesc that compiles mobile bundles to Hermes bytecode (env MMTOOLKIT_HERMESC);\ndefault: the project's pinned install ("+bundler.HermescRelPath+") or hermesc on PATH; \"off\" serves JS only")
	reference := fs.Bool("reference-plugins", envBool("MMTOOLKIT_REFERENCE_PLUGINS", true),
		"install the built-in reference plugins (video, map, appcenter) at start (env MMTOOLKIT_REFERENCE_PLUGINS);\nenabled for every team in the sandbox, left disabled in front of --upstream")
	pushBudget := fs.Int64("push-budget-mib", envInt64("MMTOOLKIT_PUSH_BUDGET_MIB", server.DefaultPushBudget>>20),
		"memory budget of pushes in flight, in MiB (env MMTOOLKIT_PUSH_BUDGET_MIB): each reserves its upload's size,\nthen what its archive unpacks to; past it a push is answered 503 push_budget_exhausted (retry);\nat least the 300 MiB unpacked limit")
	ownerQuota := fs.Int64("owner-quota-mib", envInt64("MMTOOLKIT_OWNER_QUOTA_MIB", server.DefaultOwnerQuota>>20),
		"what the versions of one developer's plugins may store together, in MiB (env MMTOOLKIT_OWNER_QUOTA_MIB);\npast it a push is answered 507 storage_quota_exceeded; 0: no quota")
	keepPre := fs.Int("keep-prereleases", int(envInt64("MMTOOLKIT_KEEP_PRERELEASES", server.DefaultKeepPrereleases)),
		"how many of each developer's newest prereleases of a plugin stay stored (env MMTOOLKIT_KEEP_PRERELEASES);\nolder ones (push --watch builds) are pruned after each push, except versions a team pinned\nor a preview shows; 0: keep every version")
	bundleLimit := fs.Int64("bundle-limit-mib", envInt64("MMTOOLKIT_BUNDLE_LIMIT_MIB", pluginpkg.DefaultLimits.MaxBundleBytes>>20),
		"largest prebuilt webapp.bundle_path file (and its .map) a push may carry, in MiB (env MMTOOLKIT_BUNDLE_LIMIT_MIB)")
	// The admin token's default is never the environment's value: --help
	// prints defaults, and this one is a secret.
	adminToken := fs.String("upstream-admin-token", "",
		"with --upstream, a Mattermost system admin's token (a personal access token) that installs pushed plugins'\nserver parts on Mattermost when the pusher is not a system admin there; env MMTOOLKIT_UPSTREAM_ADMIN_TOKEN.\nNever printed. Anyone who may push can then run server code inside Mattermost: set it only if you trust them")
	conflict := fs.String("plugin-conflict", env("MMTOOLKIT_PLUGIN_CONFLICT", string(server.ConflictMmtoolkit)),
		"with --upstream, which entry of GET /api/v4/plugins/webapp wins for a plugin id both Mattermost and the\nuser's team in mmtoolkit serve: mmtoolkit or upstream (env MMTOOLKIT_PLUGIN_CONFLICT)")
	embedExample := fs.String("embed-example", env("MMTOOLKIT_EMBED_EXAMPLE", ""),
		"sandbox only: also serve docs/embed.md's example site, which embeds a channel from another origin,\non this address, e.g. 127.0.0.2:8066 (env MMTOOLKIT_EMBED_EXAMPLE)")
	trust, minLevel, err := certificationFlags(fs)
	if err != nil {
		return err
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := positional(fs, fs.Args()); err != nil {
		return err
	}
	if *adminToken == "" {
		*adminToken = os.Getenv("MMTOOLKIT_UPSTREAM_ADMIN_TOKEN")
	}
	if *adminToken != "" && *upstreamURL == "" {
		return fmt.Errorf("--upstream-admin-token (or MMTOOLKIT_UPSTREAM_ADMIN_TOKEN) needs --upstream: it installs server parts on that Mattermost")
	}
	conflictRule, err := server.ParsePluginConflict(*conflict)
	if err != nil {
		return err
	}
	if *pushBudget <= 0 || *ownerQuota < 0 || *bundleLimit <= 0 {
		return fmt.Errorf("--push-budget-mib and --bundle-limit-mib must be positive, --owner-quota-mib 0 or more")
	}
	quota := *ownerQuota << 20
	if quota == 0 {
		quota = -1 // server.Config: negative is no quota
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	if err := os.MkdirAll(*data, 0o755); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	store, err := openStore(*storeURL, *data)
	if err != nil {
		return err
	}
	defer store.Close()
	var (
		id       server.Identity
		upstream http.Handler
		admin    server.PluginAdmin // nil without --upstream: server parts are only kept
		demo     []identity.User    // sandbox users, listed at start-up
		// sandboxTeams get the reference plugins enabled on first start.
		sandboxTeams []string
	)
	if *upstreamURL != "" {
		// All check the URL the same way; an error names it. One transport
		// (dialer, TLS configuration, keep-alive pool) for the one upstream.
		tr := apiv4proxy.NewTransport(nil, 0)
		up, err := apiv4proxy.NewUpstream(*upstreamURL, apiv4proxy.UpstreamOptions{Transport: tr})
		if err != nil {
			return err
		}
		proxy, err := apiv4proxy.NewProxy(*upstreamURL, apiv4proxy.ProxyOptions{Logger: log, Transport: tr})
		if err != nil {
			return err
		}
		pa, err := apiv4proxy.NewPluginAdmin(*upstreamURL, apiv4proxy.PluginAdminOptions{Transport: tr})
		if err != nil {
			return err
		}
		id, upstream, admin = up, proxy, pa
	} else {
		sb, err := sandbox.Open(filepath.Join(*data, "sandbox.db"))
		if err != nil {
			return err
		}
		defer sb.Close()
		id, upstream, demo = sb, sb.Handler(), sb.Users()
		teams, err := sb.Teams(context.Background())
		if err != nil {
			return err
		}
		for _, t := range teams {
			sandboxTeams = append(sandboxTeams, t.ID)
		}
	}
	mcfg, err := mobileConfig(*data, *keyPath, *hermescPath, stdout)
	if err != nil {
		return err
	}
	mcfg.TrustedKeys, mcfg.MinCertification = trust.keys, minLevel.c
	if shared, ok := store.(*registry.Postgres); ok {
		// Replicas sign with one mobile key and judge packages alike.
		trustGiven := len(trust.keys) > 0 || flagGiven(fs, "min-certification") || os.Getenv("MMTOOLKIT_MIN_CERTIFICATION") != ""
		if err := shareConfig(context.Background(), shared, &mcfg, trustGiven, stdout); err != nil {
			return err
		}
	}
	// The process's settings are the program's to choose, not the server
	// package's: the build cache the pushes share, and the collector off
	// while they compile (docs/architecture.md).
	buildCache := bundler.NewDefaultCache()
	defer buildCache.Close() // after srv.Close, whose source maps build through it
	srv, err := server.New(store, id, server.Config{Logger: log, Upstream: upstream,
		BuildCache: buildCache, CompileMemory: server.GCOffDuringCompiles(),
		Fronting: *upstreamURL != "", PluginConflict: conflictRule,
		BlobFiles: filepath.Join(*data, "blob-files"), MobileKey: mcfg.MobileKey, Hermesc: mcfg.Hermesc,
		TrustedKeys: mcfg.TrustedKeys, MinCertification: mcfg.MinCertification,
		Limits:          pluginpkg.Limits{MaxBundleBytes: *bundleLimit << 20},
		PushBudgetBytes: *pushBudget << 20, OwnerQuotaBytes: quota,
		KeepPrereleases: cmp.Or(*keepPre, -1),
		PluginAdmin:     admin, UpstreamAdminToken: *adminToken})
	if err != nil {
		return err
	}
	defer srv.Close() // after Shutdown: ends websockets and background compression
	if *reference {
		if err := preinstall(srv, sandboxTeams, stdout); err != nil {
			return err
		}
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (is another server running? choose another with --addr)", *addr, err)
	}
	hs := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       5 * time.Minute, // a 100 MiB push on a slow link
		WriteTimeout:      5 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
	url := "http://" + ln.Addr().String()
	fmt.Fprintf(stdout, "mmtoolkit is serving on %s (data in %s)\n", url, *data)
	if *upstreamURL != "" {
		fmt.Fprintf(stdout, "upstream mode: identity and /api/v4 from the Mattermost at %s; log in with your Mattermost account\n", *upstreamURL)
		parts := "server parts of pushed plugins are installed on Mattermost when a system admin there pushes them"
		if *adminToken != "" {
			parts = "server parts of pushed plugins are installed on Mattermost with the pusher's token (system admins) or the operator's admin token (anyone who may push)"
		}
		fmt.Fprintln(stdout, parts)
		fmt.Fprintf(stdout, "plugin list: Mattermost's plugins plus each team's; on an id in both, %s's entry wins (--plugin-conflict)\n", conflictRule)
		fmt.Fprintf(stdout, "try: MMTOOLKIT_SERVER=%s MMTOOLKIT_USER=<you> MMTOOLKIT_PASSWORD=<password> mmtoolkit push docs/examples/hello\n", url)
	} else {
		fmt.Fprintf(stdout, "sandbox mode (no --upstream): sandbox users (password %q): ", sandbox.Password)
		for i, u := range demo {
			if i > 0 {
				fmt.Fprint(stdout, ", ")
			}
			fmt.Fprint(stdout, u.Username)
		}
		fmt.Fprintf(stdout, "\nopen %s/ in a browser and log in as bob (team engineering) or carol (team sales)\n", url)
		fmt.Fprintf(stdout, "try: MMTOOLKIT_SERVER=%s MMTOOLKIT_USER=dev MMTOOLKIT_PASSWORD=mmtoolkit mmtoolkit push docs/examples/hello\n", url)
	}

	if *embedExample != "" && *upstreamURL == "" {
		defer startEmbedExample(srv, *embedExample, url, stdout, log)()
	} else if *embedExample != "" {
		fmt.Fprintln(stdout, "embed example not started: --embed-example runs with the sandbox only (its users and channels)")
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	edge := srv.NewEdge(hs)
	go func() { errc <- edge.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := edge.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// openStore opens the registry serve runs on: PostgreSQL when storeURL is a
// postgres:// URL, else the bbolt file in the data directory.
func openStore(storeURL, data string) (server.Store, error) {
	switch {
	case storeURL == "":
		return registry.Open(filepath.Join(data, "registry.db"), nil)
	case isPostgresURL(storeURL):
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		return registry.OpenPostgres(ctx, storeURL, nil)
	}
	return nil, fmt.Errorf("--store %q is not a postgres:// URL (leave it empty for the bbolt file in --data)", redactDSN(storeURL))
}

// envInt64 reads an integer environment variable; unset or unreadable
// means def.
func envInt64(key string, def int64) int64 {
	if n, err := strconv.ParseInt(os.Getenv(key), 10, 64); err == nil {
		return n
	}
	return def
}

// preinstall publishes the reference plugins built into the binary
// (server.Preinstall): enabled for enableTeams the first time, then left to
// the admins.
func preinstall(srv *server.Server, enableTeams []string, stdout io.Writer) error {
	pkgs, err := plugins.Packages()
	if err != nil {
		return err
	}
	res, err := srv.Preinstall(context.Background(), pkgs, enableTeams)
	if err != nil {
		return err
	}
	for _, r := range res {
		state := "present"
		switch {
		case r.Installed && len(r.EnabledFor) > 0:
			state = fmt.Sprintf("installed, enabled for %d team(s)", len(r.EnabledFor))
		case r.Installed:
			state = "installed, disabled until an admin enables it"
		case r.Published:
			state = "upgraded"
		}
		fmt.Fprintf(stdout, "reference plugin %s %s: %s\n", r.ID, r.Version, state)
	}
	return nil
}
