// Package releasekey is the ed25519 key pair a release is signed with: it signs licenses and
// air-gap bundles, and its public half is compiled into the binary, which verifies both offline.
// A build made without a release key trusts the development key, whose private half is public
// (examples/development-license.key): such builds are for development and demos only.
package releasekey

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	_ "embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
)

// developmentPublicKey is the public half of examples/development-license.key.
//
//go:embed development.pub
var developmentPublicKey []byte

// trustedPublicKey replaces the development key in release builds. It is set at link time to the
// base64 DER body of the release public key's PEM file:
//
//	go build -ldflags "-X github.com/datastax/mission-control/internal/releasekey.trustedPublicKey=MCow..."
var trustedPublicKey string

// Trusted returns the public key this build verifies licenses and bundles with.
func Trusted() ed25519.PublicKey {
	src := developmentPublicKey
	if trustedPublicKey != "" {
		src = []byte(trustedPublicKey)
	}
	pub, err := ParsePublic(src)
	if err != nil {
		panic(fmt.Sprintf("the release public key compiled into this binary is unusable: %v", err)) // a broken build
	}
	return pub
}

// IsDevelopment reports whether this build trusts the development key.
func IsDevelopment() bool {
	dev, err := ParsePublic(developmentPublicKey)
	return err == nil && dev.Equal(Trusted())
}

// Generate makes a new signing key pair.
func Generate() (ed25519.PublicKey, ed25519.PrivateKey, error) {
	return ed25519.GenerateKey(rand.Reader)
}

// MarshalPrivate encodes a private key as a PKCS #8 PEM block.
func MarshalPrivate(key ed25519.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encode private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// MarshalPublic encodes a public key as a PKIX PEM block; its one body line is also the form
// trustedPublicKey takes.
func MarshalPublic(pub ed25519.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("encode public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// ParsePrivate decodes a PKCS #8 PEM ed25519 private key. Text around the PEM block is allowed.
func ParsePrivate(data []byte) (ed25519.PrivateKey, error) {
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

// ParsePublic decodes an ed25519 public key from a PKIX PEM block or from its bare base64 body.
func ParsePublic(data []byte) (ed25519.PublicKey, error) {
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

// ID names a public key: the first 8 bytes of its SHA-256, in hex.
func ID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}
