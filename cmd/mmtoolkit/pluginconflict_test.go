package main

import (
	"bytes"
	"strings"
	"testing"
)

// --plugin-conflict (and MMTOOLKIT_PLUGIN_CONFLICT) takes mmtoolkit or
// upstream; anything else stops serve before it opens anything, naming
// both values.
func TestServePluginConflictFlag(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		env  string
	}{
		{"flag", []string{"--plugin-conflict", "both"}, ""},
		{"env", nil, "mattermost"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("MMTOOLKIT_PLUGIN_CONFLICT", tc.env)
			var out, errb bytes.Buffer
			err := cmdServe(append(tc.args, "--data", t.TempDir(), "--addr", "127.0.0.1:0"), &out, &errb)
			if err == nil || !strings.Contains(err.Error(), `"mmtoolkit"`) || !strings.Contains(err.Error(), `"upstream"`) {
				t.Fatalf("serve with a bad rule: %v\n%s%s", err, out.String(), errb.String())
			}
		})
	}
}
