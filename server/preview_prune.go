package server

import "github.com/mmtoolkit/mmtoolkit/internal/app/previews"

// DefaultKeepPrereleases is Config.KeepPrereleases' default: how many of
// each developer's newest prereleases of a plugin stay stored. push
// --watch stores one per save that changes a bundle; no team follows them
// (slots.Effective), so older ones only fill the store. The pruning
// itself, after each prerelease stored, is internal/app/previews'
// (Previews.Prune): it keeps the versions a team pins or a preview shows.
const DefaultKeepPrereleases = previews.DefaultKeep
