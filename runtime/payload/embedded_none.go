//go:build !payload

package payload

// Embedded returns ErrNone: this binary was built without the payload (plain go build, go test).
func Embedded() (*Payload, error) { return nil, ErrNone }
