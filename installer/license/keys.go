package license

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	_ "embed"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
)

// developmentPublicKey verifies licenses signed with examples/development-license.key, whose
// private half is public: builds that trust it are for development and demos only.
//
//go:embed development.pub
var developmentPublicKey []byte

// trustedPublicKey replaces the development key in release builds. It is set at link time to the
// base64 DER body of the release public key's PEM file:
//
//	go build -ldflags "-X github.com/datastax/mission-control/installer/license.trustedPublicKey=MCow..."
var trustedPublicKey string

// Trusted returns the public key this build verifies licenses with.
func Trusted() ed25519.PublicKey {
	src := developmentPublicKey
	if trustedPublicKey != "" {
		src = []byte(trustedPublicKey)
	}
	pub, err := ParsePublicKey(src)
	if err != nil {
		panic(fmt.Sprintf("the license public key compiled into this binary is unusable: %v", err)) // a broken build
	}
	return pub
}

// TrustsDevelopmentKey reports whether this build accepts licenses signed with the development key.
func TrustsDevelopmentKey() bool {
	dev, err := ParsePublicKey(developmentPublicKey)
	return err == nil && dev.Equal(Trusted())
}

// GenerateKey makes a new signing key pair.
func GenerateKey() (ed25519.PublicKey, ed25519.PrivateKey, error) {
	return ed25519.GenerateKey(rand.Reader)
}

// MarshalPrivateKey encodes a private key as a PKCS #8 PEM block.
func MarshalPrivateKey(key ed25519.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encode private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// MarshalPublicKey encodes a public key as a PKIX PEM block; its one body line is also the form
// trustedPublicKey takes.
func MarshalPublicKey(pub ed25519.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("encode public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// ParsePrivateKey decodes a PKCS #8 PEM ed25519 private key. Text around the PEM block is allowed.
func ParsePrivateKey(data []byte) (ed25519.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, errors.New("no PEM \"PRIVATE KEY\" block found")
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse private key: %w", err)
	}
	ed, ok := key.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("the private key is %T, not ed25519", key)
	}
	return ed, nil
}

// ParsePublicKey decodes an ed25519 public key from a PKIX PEM block or from its bare base64 body.
func ParsePublicKey(data []byte) (ed25519.PublicKey, error) {
	der := []byte(nil)
	if block, _ := pem.Decode(data); block != nil {
		if block.Type != "PUBLIC KEY" {
			return nil, fmt.Errorf("PEM block is %q, want \"PUBLIC KEY\"", block.Type)
		}
		der = block.Bytes
	} else {
		var err error
		if der, err = base64.StdEncoding.DecodeString(strings.TrimSpace(string(data))); err != nil {
			return nil, errors.New("neither a PEM \"PUBLIC KEY\" block nor its base64 body")
		}
	}
	key, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("parse public key: %w", err)
	}
	ed, ok := key.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("the public key is %T, not ed25519", key)
	}
	return ed, nil
}
