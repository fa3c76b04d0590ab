package mobile_test

import (
	"crypto/ed25519"
	"fmt"

	"github.com/mmtoolkit/mmtoolkit/mobile"
)

// The server signs the exact manifest bytes; the app checks them with the
// key it pinned.
func Example() {
	priv, _ := mobile.GenerateKey()
	pinned := mobile.PublicKeyString(priv.Public().(ed25519.PublicKey))

	body := []byte(`{"team":"t1","platform":"ios","runtime":"1.0.0","plugins":[],"skipped":[]}` + "\n")
	signature := mobile.Sign(priv, body) // the X-Mmtoolkit-Signature header

	pub, _ := mobile.ParsePublicKey(pinned)
	fmt.Println(mobile.Verify(pub, body, signature))
	body[10] = 'X'
	fmt.Println(mobile.Verify(pub, body, signature))
	// Output:
	// <nil>
	// mobile: signature does not verify
}
