package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// version is the release this binary was built as; a release build sets
// it with -ldflags "-X main.version=1.2.3". Without it, the module version
// Go recorded (a "go install ...@v1.2.3" build) or "dev".
var version = ""

// buildVersion is what "mmtoolkit version" prints: the version, and the
// commit and time of the source the binary was built from when Go recorded
// them (builds inside a git checkout do), "+modified" for uncommitted
// changes.
func buildVersion() (v, commit, built string, modified bool) {
	v = version
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return cmpOr(v, "dev"), "", "", false
	}
	if v == "" && info.Main.Version != "" && info.Main.Version != "(devel)" {
		v = info.Main.Version
	}
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			commit = s.Value
		case "vcs.time":
			built = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	return cmpOr(v, "dev"), commit, built, modified
}

func cmdVersion(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("version", "[--json]", "Prints this mmtoolkit's version, the commit it was built from, and Go's version.", stderr)
	asJSON := addJSONFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := positional(fs, fs.Args()); err != nil {
		return err
	}
	v, commit, built, modified := buildVersion()
	if *asJSON {
		return printJSON(stdout, map[string]any{"version": v, "commit": commit, "commit_time": built, "modified": modified,
			"go": runtime.Version(), "platform": runtime.GOOS + "/" + runtime.GOARCH})
	}
	line := "mmtoolkit " + v
	if commit != "" {
		short := commit[:min(len(commit), 12)]
		if modified {
			short += "+modified"
		}
		line += " (commit " + short
		if built != "" {
			line += ", " + built
		}
		line += ")"
	}
	fmt.Fprintf(stdout, "%s %s %s/%s\n", line, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return nil
}
