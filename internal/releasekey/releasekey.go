// Package releasekey holds the ed25519 public keys a release verifies offline: one for licenses,
// another for air-gap bundles, both compiled into the binary. Two keys, because they guard
// different things and are used differently: the license key signs a file per customer, often,
// and forging with it only grants entitlements; the bundle key signs once per release, and
// forging with it puts images of one's choosing on every node. A build made without release keys
// trusts the development key for both, whose private half is public
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

// trustedBundlePublicKey replaces the development key for air-gap bundles, set the same way
// (…/releasekey.trustedBundlePublicKey=MCow...).
var trustedBundlePublicKey string

// Trusted returns the public key this build verifies licenses with.
func Trusted() ed25519.PublicKey { return compiled(trustedPublicKey, "license") }

// TrustedBundles returns the public key this build verifies air-gap bundles with.
func TrustedBundles() ed25519.PublicKey { return compiled(trustedBundlePublicKey, "bundle") }

// compiled is the key set at link time, else the development key.
func compiled(body, what string) ed25519.PublicKey {
	src := developmentPublicKey
	if body != "" {
		src = []byte(body)
	}
	pub, err := ParsePublic(src)
	if err != nil {
		panic(fmt.Sprintf("the release %s public key compiled into this binary is unusable: %v", what, err)) // a broken build
	}
	return pub
}

// IsDevelopment reports whether this build trusts the development key, for licenses or bundles.
func IsDevelopment() bool {
	dev, err := ParsePublic(developmentPublicKey)
	return err == nil && (dev.Equal(Trusted()) || dev.Equal(TrustedBundles()))
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
