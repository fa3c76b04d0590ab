// Package webapp serves the Redux webapp host: the HTML shell every host
// route answers with (a templ component with a strict Content-Security-Policy)
// and the host's built assets under /static/ (content-hashed, immutable,
// precompressed at build time).
//
// The front end itself is TypeScript under src/, built by `make webapp`
// (node build.mjs) into dist/, which this package embeds. Before the first
// build dist/ holds only .gitkeep: the binary still builds, and the shell
// answers 503 "host assets not built: run make webapp".
//
// Entry points: New, (*Host).Shell, (*Host).Static. docs/webapp.md
// describes the host, the Mattermost plugin contract it implements, and the
// CSP.
package webapp
