package server_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/mmtoolkit/mmtoolkit/server"
)

// TestPrebuiltHostModules: a prebuilt bundle's host_modules are the host
// globals it reads in any form webpack emits, bare identifiers included,
// and those of the chunks it loads later from its output directory; a
// bundle the server cannot read for sure gets every lazy module.
func TestPrebuiltHostModules(t *testing.T) {
	t.Parallel()
	e := newEnv(t, server.Config{})
	manifest := func(id string) string {
		return `{"id":"` + id + `","name":"` + id + `","version":"1.0.0","webapp":{"bundle_path":"webapp/dist/main.js"}}`
	}
	tests := []struct {
		id    string
		files map[string]string
		want  []string
	}{
		{"com.example.bare", map[string]string{
			// webpack 5 externals without output.library.
			"webapp/dist/main.js": `(()=>{var e={1:e=>{"use strict";e.exports=ReactBootstrap},2:e=>{"use strict";e.exports=Luxon}},t={};function r(n){var o=t[n];if(void 0!==o)return o.exports;var i=t[n]={exports:{}};return e[n](i,i.exports,r),i.exports}r(1);r(2);window.registerPlugin("com.example.bare",{})})();`,
		}, []string{"luxon", "react-bootstrap"}},
		{"com.example.chunk", map[string]string{
			"webapp/dist/main.js":   `(()=>{var s=document.createElement("script");s.src="/static/plugins/com.example.chunk/12.js";document.head.appendChild(s);window.registerPlugin("com.example.chunk",{})})();`,
			"webapp/dist/12.js":     `(self.webpackChunk=self.webpackChunk||[]).push([[12],{5:e=>{e.exports=ReactIntl}}]);`,
			"webapp/dist/logo.svg":  `<svg xmlns="http://www.w3.org/2000/svg"/>`,
			"webapp/dist/notes.txt": `ReactRouterDom is not code here`,
		}, []string{"react-intl"}},
		{"com.example.dynamic", map[string]string{
			"webapp/dist/main.js": `(()=>{var k=location.hash.slice(1);window[k];window.registerPlugin("com.example.dynamic",{})})();`,
		}, []string{"luxon", "prop-types", "react", "react-bootstrap", "react-dom", "react-intl", "react-redux", "react-router-dom", "redux"}},
	}
	for _, tc := range tests {
		t.Run(tc.id, func(t *testing.T) {
			tc.files["plugin.json"] = manifest(tc.id)
			r := e.push("dev", tc.files)
			if r.status != http.StatusCreated {
				t.Fatalf("push: %d %s", r.status, r.body)
			}
			var got []string
			for _, m := range r.json(t)["host_modules"].([]any) {
				got = append(got, m.(string))
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("host_modules = %q, want %q", got, tc.want)
			}
		})
	}
}
