package slots

// The TypeScript copies of the contracts the hosts read (this catalogue,
// the manifests, the websocket events, the host modules) are generated
// from their Go declarations; see internal/contractgen.
//go:generate go run ../internal/contractgen
