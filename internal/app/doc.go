// Package app is the root of mmtoolkit's application layer: the packages
// below it hold what the server does between the HTTP edge (package
// server: routes, decoding, headers, the error mapping) and the domain
// (registry, bundler, slots, identity). Each owns one rule and its state:
//
//   - changes: the typed change feed every write goes through;
//   - publish: the push pipeline, from a read package to a stored version;
//   - serving: which version a team serves, and the one invalidation of
//     every cache of served answers;
//   - enablement: team-state changes (enable, pin, rollback, kill switch);
//   - notify: which teams' pages hear of a change (the edge delivers);
//   - previews: developers' previews of their prereleases;
//   - embed: embed apps, channel-scoped tokens and their sessions;
//   - serverpart: plugins' server parts on the upstream Mattermost (install
//     with put-back on failure, which version runs, pin, the kill switch);
//   - artifacts: the index of every servable blob;
//   - scheduler, with precompress, bytecode and sourcemaps: background work.
//
// The rules of the layering are checked by this package's test: nothing
// here imports net/http or the HTTP edge, and the domain packages import
// nothing of the application layer.
package app
