package pki

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"strings"
	"testing"
	"time"

	certutil "k8s.io/client-go/util/cert"
	"k8s.io/client-go/util/keyutil"
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

func TestIssueClientWithAnRSACA(t *testing.T) {
	// The runtime's CA is RSA: sign with one, as the join check does.
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	caCert, err := certutil.NewSelfSignedCACert(certutil.Config{CommonName: "kubernetes-ca"}, rsaKey)
	if err != nil {
		t.Fatal(err)
	}
	caKeyPEM, _ := keyutil.MarshalPrivateKeyToPEM(rsaKey)
	certPEM, _, err := IssueClient(EncodeCertificate(caCert), caKeyPEM, "mission-control:join-check", []string{"system:bootstrappers"}, 10*time.Minute, now)
	if err != nil {
		t.Fatal(err)
	}
	certs, err := certutil.ParseCertsPEM(certPEM)
	if err != nil {
		t.Fatal(err)
	}
	c := certs[0]
	if err := c.CheckSignatureFrom(caCert); err != nil {
		t.Errorf("not signed by the CA: %v", err)
	}
	if c.Subject.CommonName != "mission-control:join-check" || len(c.Subject.Organization) != 1 || c.Subject.Organization[0] != "system:bootstrappers" {
		t.Errorf("subject %v: want the user and its group", c.Subject)
	}
	if len(c.ExtKeyUsage) != 1 || c.ExtKeyUsage[0] != x509.ExtKeyUsageClientAuth || !c.NotAfter.Equal(now.Add(10*time.Minute).Truncate(time.Second)) {
		t.Errorf("usages %v, not after %s: want client auth for ten minutes", c.ExtKeyUsage, c.NotAfter)
	}
	if _, _, err := IssueClient(EncodeCertificate(caCert), []byte("junk"), "u", nil, time.Minute, now); err == nil {
		t.Error("a junk CA key was accepted")
	}
}
