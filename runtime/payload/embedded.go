//go:build payload

package payload

import _ "embed"

// The Makefile copies the built payload here before building with -tags payload.
var (
	//go:embed payload.tar.zst
	embeddedData []byte
	//go:embed payload.json
	embeddedManifest []byte
)

// Embedded returns the payload compiled into this binary.
func Embedded() (*Payload, error) { return New(embeddedData, embeddedManifest) }
