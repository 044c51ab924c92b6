// Package pemtest makes real PEM-encoded private keys for tests that check they never leak.
package pemtest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"
)

// RSAKey is a fresh RSA private key in its PKCS#1 PEM shape: 25 body lines.
func RSAKey(t testing.TB) string {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
}

// BodyLines are a PEM block's base64 lines.
func BodyLines(block string) []string {
	var lines []string
	for line := range strings.SplitSeq(strings.TrimSpace(block), "\n") {
		if !strings.HasPrefix(line, "-----") {
			lines = append(lines, line)
		}
	}
	return lines
}
