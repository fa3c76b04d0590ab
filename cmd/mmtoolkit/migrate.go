package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/mmtoolkit/mmtoolkit/mobile"
	"github.com/mmtoolkit/mmtoolkit/registry"
)

// cmdMigrate copies a bbolt registry into PostgreSQL (registry.CopyToPostgres:
// one transaction, records as they are, a re-run copies nothing). It opens
// the bbolt file itself, so the serve process that uses it must be stopped
// first (bbolt's file lock says so).
func cmdMigrate(args []string, stdout, stderr io.Writer) error {
	fl := newFlags("migrate", "--from DATA_DIR --to postgres://USER@HOST/DB [flags]",
		"Copies the registry in DATA_DIR (registry.db, written by serve --data DATA_DIR) into a PostgreSQL\n"+
			"database, for serve --store: every plugin, version, blob, team state, audit entry, KV entry,\n"+
			"crash report, embed app and token, server part and shared setting, and the mobile signing key\n"+
			"(DATA_DIR/"+mobile.DefaultKeyFile+", or --key), so apps keep trusting signed manifests.\n"+
			"One transaction: it copies everything or nothing. The target should be empty; records it\n"+
			"already holds unchanged (an earlier run) are left alone, a different one stops the copy.\n"+
			"Stop the serve that uses DATA_DIR first.", stderr)
	from := fl.String("from", "", "data directory of the bbolt registry (serve --data)")
	to := fl.String("to", env("MMTOOLKIT_STORE", ""), "PostgreSQL connection URL, postgres://user:password@host:5432/db (env MMTOOLKIT_STORE)")
	keyPath := fl.String("key", "", "mobile signing key to copy into the database (default DATA_DIR/"+mobile.DefaultKeyFile+" when it exists)")
	asJSON := fl.Bool("json", false, "print what was copied as JSON")
	if err := parseFlags(fl, args); err != nil {
		return err
	}
	if err := positional(fl, fl.Args()); err != nil {
		return err
	}
	if *from == "" || *to == "" {
		return usagef(fl, "both --from (the data directory) and --to (postgres://...) are required")
	}
	if !isPostgresURL(*to) {
		return usagef(fl, "--to %q is not a postgres:// URL", redactDSN(*to))
	}
	path := filepath.Join(*from, "registry.db")
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("no registry at %s: --from is the data directory serve --data used (%w)", path, err)
	}
	settings := map[string][]byte{}
	kp := *keyPath
	if kp == "" {
		kp = filepath.Join(*from, mobile.DefaultKeyFile)
	}
	// Stored as serve --store shares it (mobile.MarshalKey), so replicas
	// started with the same file find their own key there.
	switch key, err := mobile.ReadKey(kp); {
	case err == nil:
		raw, err := mobile.MarshalKey(key)
		if err != nil {
			return err
		}
		settings[registry.SettingMobileKey] = raw
	case *keyPath != "" || !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("read the mobile signing key %s: %w", kp, err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	src, err := registry.Open(path, &registry.Options{LockTimeout: 2 * time.Second})
	if errors.Is(err, registry.ErrLocked) {
		return fmt.Errorf("%s is in use: stop the mmtoolkit serve using --data %s, then migrate again", path, *from)
	}
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := registry.OpenPostgres(ctx, *to, nil)
	if err != nil {
		return err
	}
	defer dst.Close()
	start := time.Now()
	rep, err := registry.CopyToPostgres(ctx, src, dst, registry.CopyOptions{Settings: settings})
	if errors.Is(err, registry.ErrCopyConflict) {
		return fmt.Errorf("%w\nnothing was copied: the database holds another registry (or this one changed since an earlier copy); migrate into an empty database", err)
	}
	if err != nil {
		return fmt.Errorf("%w\nnothing was copied", err)
	}
	took := time.Since(start)
	if err := dst.Verify(ctx); err != nil {
		return fmt.Errorf("copied, but the database's check failed: %w", err)
	}
	if *asJSON {
		return printJSON(stdout, struct {
			From   string              `json:"from"`
			To     string              `json:"to"`
			Kinds  []registry.CopyKind `json:"kinds"`
			TookMS int64               `json:"took_ms"`
		}{path, redactDSN(*to), rep.Kinds, took.Milliseconds()})
	}
	fmt.Fprintf(stdout, "migrated %s to %s in %s (one transaction; the database's check passed)\n", path, redactDSN(*to), took.Round(time.Millisecond))
	fmt.Fprintf(stdout, "  %-14s %8s %10s %8s\n", "", "copied", "bytes", "present")
	var copied, present int
	var bytes int64
	for _, k := range rep.Kinds {
		line := fmt.Sprintf("  %-14s %8d %10s %8d", k.Kind, k.Copied, size(k.Bytes), k.Present)
		if k.Skipped > 0 {
			line += fmt.Sprintf("  (%d skipped: their version is gone)", k.Skipped)
		}
		fmt.Fprintln(stdout, line)
		copied, present, bytes = copied+k.Copied, present+k.Present, bytes+k.Bytes
	}
	fmt.Fprintf(stdout, "  %-14s %8d %10s %8d\n", "total", copied, size(bytes), present)
	if copied == 0 && present > 0 {
		fmt.Fprintln(stdout, "nothing to copy: the database already holds this registry")
	}
	fmt.Fprintf(stdout, "serve it with: mmtoolkit serve --store '%s' --data <a cache directory>\n", redactDSN(*to))
	return nil
}

func isPostgresURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// redactDSN is a connection URL without its password, for printing.
func redactDSN(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "the PostgreSQL database"
	}
	return u.Redacted()
}
