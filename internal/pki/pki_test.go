package pki

import (
	"strings"
	"testing"
	"time"
)

var now = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

func TestIssueAndCheck(t *testing.T) {
	ca, err := NewCA("test CA", 10*365*24*time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	again, err := ParseCA(ca.CertPEM, ca.KeyPEM)
	if err != nil || !again.Cert.Equal(ca.Cert) {
		t.Fatalf("ParseCA: %v", err)
	}
	names := []string{"a.ns.svc", "b.ns.svc"}
	cert, key, err := ca.IssueServing(names, 365*24*time.Hour, now)
	if err != nil || !strings.Contains(string(key), "EC PRIVATE KEY") {
		t.Fatal(err)
	}
	if err := ca.CheckServing(cert, names, now, 30*24*time.Hour); err != nil {
		t.Errorf("a fresh certificate fails: %v", err)
	}
	if err := ca.CheckServing(cert, append(names, "c.ns.svc"), now, 0); err == nil || !strings.Contains(err.Error(), "does not name c.ns.svc") {
		t.Errorf("missing name: %v", err)
	}
	if err := ca.CheckServing(cert, names, now.Add(340*24*time.Hour), 30*24*time.Hour); err == nil || !strings.Contains(err.Error(), "expires") {
		t.Errorf("near expiry: %v", err)
	}
	other, _ := NewCA("other", time.Hour, now)
	if err := other.CheckServing(cert, names, now, 0); err == nil {
		t.Error("a certificate from another CA passed")
	}
	if _, err := ParseCA(ca.CertPEM, other.KeyPEM); err == nil {
		t.Error("a CA with another's key was accepted")
	}
	short, _ := NewCA("short", time.Hour, now)
	c, _, _ := short.IssueServing(names, 24*time.Hour, now)
	if err := short.CheckServing(c, names, now.Add(2*time.Hour), 0); err == nil {
		t.Error("a certificate outliving its CA")
	}
}
