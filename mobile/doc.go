// Package mobile is the Go side of mmtoolkit's React Native support: the
// ed25519 key that signs mobile manifests, and the signature format the
// host library in this directory (src/, TypeScript) verifies.
//
// A server has one signing key (LoadOrCreateKey, written by `mmtoolkit
// keygen` or created on first start). It signs the exact bytes of every
// mobile manifest body (Sign); the app pins the public key
// (PublicKeyString) and checks the X-Mmtoolkit-Signature header (Verify)
// before it trusts anything the manifest says. Each manifest entry carries
// its bundle's SHA-256, so the one signature covers every bundle.
//
// The manifest itself is built by slots.BuildMobile and served by the HTTP
// edge (server/mobile.go); docs/mobile.md describes the whole protocol.
package mobile
