package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
)

type pushResult struct {
	ID      string `json:"id"`
	Version string `json:"version"`
	Created bool   `json:"created"`
	Bundles map[string]struct {
		URL      string `json:"url"`
		Size     int64  `json:"size"`
		GzipSize int64  `json:"gzip_size"`
	} `json:"bundles"`
	BuildMS  float64  `json:"build_ms"`
	Warnings []string `json:"warnings"`
	Slots    []struct {
		Slot     string `json:"slot"`
		PostType string `json:"post_type"`
	} `json:"slots"`
}

func cmdPush(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("push", "[flags] DIR|FILE.tar.gz",
		"Compiles and publishes a plugin. A directory is packed first (only the files its\n"+
			"entries import, as \"mmtoolkit pack\" does); a .tar.gz is sent as it is. Compile\n"+
			"errors print as file:line:col: message and the command exits 1.", stderr)
	cf := addClientFlags(fs)
	watch := fs.Bool("watch", false, "push again on every change of DIR, until Ctrl-C (open pages update live)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	c, err := cf.connect()
	if err != nil {
		return err
	}
	if *watch {
		return watchAndPush(c, fs.Arg(0), stdout, stderr)
	}
	return pushOnce(c, &packer{}, fs.Arg(0), stdout, stderr)
}

// pushOnce packs (for a directory) and pushes, printing the outcome. The
// server's diagnostics are the ones printed, so what the terminal shows and
// what the developer's open page shows are the same.
func pushOnce(c *client, p *packer, path string, stdout, stderr io.Writer) error {
	archive, err := p.read(path)
	if err != nil {
		return err
	}
	var res pushResult
	_, err = c.do("POST", "/api/v1/plugins", "application/gzip", bytes.NewReader(archive), &res)
	var ae *apiError
	if errors.As(err, &ae) && len(ae.Diagnostics) > 0 {
		for _, d := range ae.Diagnostics {
			fmt.Fprintln(stderr, formatDiagnostic(d))
		}
		fmt.Fprintf(stderr, "push failed: %s\n", ae.Message)
		return exitError(1)
	}
	if err != nil {
		return err
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(stderr, "warning: %s\n", w)
	}
	verb := "pushed"
	if !res.Created {
		verb = "unchanged (identical content already pushed):"
	}
	var parts []string
	for _, k := range []string{"web", "mobile"} {
		if b, ok := res.Bundles[k]; ok {
			parts = append(parts, fmt.Sprintf("%s %s", k, size(b.Size)))
		}
	}
	fmt.Fprintf(stdout, "%s %s@%s: %s, built in %.0f ms\n", verb, res.ID, res.Version, strings.Join(parts, ", "), res.BuildMS)
	return nil
}

func formatDiagnostic(d diagnostic) string {
	if d.File == "" {
		return d.Text
	}
	return fmt.Sprintf("%s:%d:%d: %s", d.File, d.Line, d.Column+1, d.Text)
}

func size(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
