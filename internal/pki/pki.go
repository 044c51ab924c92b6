// Package pki issues the certificates mission-control's components use: private CAs, serving
// certificates for the operators' webhooks, and Cassandra's internode certificates.
package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"time"

	certutil "k8s.io/client-go/util/cert"
	"k8s.io/client-go/util/keyutil"
)

// CA is a certificate authority: its certificate and key, parsed and as PEM.
type CA struct {
	Cert    *x509.Certificate
	Key     *ecdsa.PrivateKey
	CertPEM []byte
	KeyPEM  []byte
}

// NewCA makes a self-signed CA valid from now for validity.
func NewCA(commonName string, validity time.Duration, now time.Time) (CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return CA{}, fmt.Errorf("generate CA key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: commonName},
		NotBefore:             now.Add(-time.Minute),
		NotAfter:              now.Add(validity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return CA{}, fmt.Errorf("sign CA certificate: %w", err)
	}
	return caFrom(der, key)
}

func caFrom(der []byte, key *ecdsa.PrivateKey) (CA, error) {
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return CA{}, err
	}
	keyPEM, err := keyutil.MarshalPrivateKeyToPEM(key)
	if err != nil {
		return CA{}, err
	}
	return CA{Cert: cert, Key: key, CertPEM: EncodeCertificate(cert), KeyPEM: keyPEM}, nil
}

// ParseCA reads a CA written by NewCA.
func ParseCA(certPEM, keyPEM []byte) (CA, error) {
	certs, err := certutil.ParseCertsPEM(certPEM)
	if err != nil {
		return CA{}, fmt.Errorf("parse CA certificate: %w", err)
	}
	key, err := ParseKey(keyPEM)
	if err != nil {
		return CA{}, fmt.Errorf("parse CA key: %w", err)
	}
	if cert := certs[0]; !cert.IsCA || !key.PublicKey.Equal(cert.PublicKey) {
		return CA{}, errors.New("the CA certificate and key do not belong together")
	}
	return caFrom(certs[0].Raw, key)
}

// IssueServing signs a serving certificate for the DNS names, valid from now for validity.
func (ca CA) IssueServing(dnsNames []string, validity time.Duration, now time.Time) (certPEM, keyPEM []byte, err error) {
	return ca.Issue(dnsNames, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, validity, now)
}

// Issue signs a certificate for the DNS names and extended key usages, valid from now for
// validity but never beyond the CA's own expiry.
func (ca CA) Issue(dnsNames []string, usages []x509.ExtKeyUsage, validity time.Duration, now time.Time) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate key: %w", err)
	}
	notAfter := now.Add(validity)
	if notAfter.After(ca.Cert.NotAfter) {
		notAfter = ca.Cert.NotAfter // a certificate cannot outlive its CA
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: dnsNames[0]},
		DNSNames:     dnsNames,
		NotBefore:    now.Add(-time.Minute),
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  usages,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.Key)
	if err != nil {
		return nil, nil, fmt.Errorf("sign certificate for %s: %w", dnsNames[0], err)
	}
	keyPEM, err = keyutil.MarshalPrivateKeyToPEM(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: certutil.CertificateBlockType, Bytes: der}), keyPEM, nil
}

// IssueClient signs, with the CA given as PEM (any key type: the runtime's own CA is RSA), a
// client certificate for the Kubernetes user in groups, valid from now for validity.
func IssueClient(caCertPEM, caKeyPEM []byte, user string, groups []string, validity time.Duration, now time.Time) (certPEM, keyPEM []byte, err error) {
	return signWithPEM(caCertPEM, caKeyPEM, &x509.Certificate{
		Subject:     pkix.Name{CommonName: user, Organization: groups},
		NotBefore:   now.Add(-time.Minute),
		NotAfter:    now.Add(validity),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
}

// IssueServingFrom signs, with the CA given as PEM (any key type), a serving certificate for the
// names (DNS names, and IP addresses where a name is one), valid from now for validity but never
// beyond the CA's own expiry.
func IssueServingFrom(caCertPEM, caKeyPEM []byte, names []string, validity time.Duration, now time.Time) (certPEM, keyPEM []byte, err error) {
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: names[0]},
		NotBefore:   now.Add(-time.Minute),
		NotAfter:    now.Add(validity),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	return signWithPEM(caCertPEM, caKeyPEM, tmpl)
}

// signWithPEM signs tmpl (given a serial and a new key here) with the CA given as PEM.
func signWithPEM(caCertPEM, caKeyPEM []byte, tmpl *x509.Certificate) (certPEM, keyPEM []byte, err error) {
	certs, err := certutil.ParseCertsPEM(caCertPEM)
	if err != nil {
		return nil, nil, fmt.Errorf("parse CA certificate: %w", err)
	}
	caKey, err := keyutil.ParsePrivateKeyPEM(caKeyPEM)
	if err != nil {
		return nil, nil, fmt.Errorf("parse CA key: %w", err)
	}
	signer, ok := caKey.(crypto.Signer)
	if !ok {
		return nil, nil, fmt.Errorf("a %T CA key cannot sign", caKey)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate key: %w", err)
	}
	tmpl.SerialNumber = serial()
	if tmpl.NotAfter.After(certs[0].NotAfter) {
		tmpl.NotAfter = certs[0].NotAfter // a certificate cannot outlive its CA
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, certs[0], &key.PublicKey, signer)
	if err != nil {
		return nil, nil, fmt.Errorf("sign the certificate for %s: %w", tmpl.Subject.CommonName, err)
	}
	if keyPEM, err = keyutil.MarshalPrivateKeyToPEM(key); err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: certutil.CertificateBlockType, Bytes: der}), keyPEM, nil
}

// CheckServing reports why a serving certificate cannot be used at now for the DNS names
// until at least renewBefore from now: not signed by the CA, a name missing, or expiring.
func (ca CA) CheckServing(certPEM []byte, dnsNames []string, now time.Time, renewBefore time.Duration) error {
	return checkServing(ca.Cert, certPEM, dnsNames, now, renewBefore)
}

// CheckServingFrom is CheckServing with the CA's certificate given as PEM, and names that may be
// IP addresses (see IssueServingFrom).
func CheckServingFrom(caCertPEM, certPEM []byte, names []string, now time.Time, renewBefore time.Duration) error {
	certs, err := certutil.ParseCertsPEM(caCertPEM)
	if err != nil {
		return fmt.Errorf("parse CA certificate: %w", err)
	}
	return checkServing(certs[0], certPEM, names, now, renewBefore)
}

func checkServing(ca *x509.Certificate, certPEM []byte, names []string, now time.Time, renewBefore time.Duration) error {
	certs, err := certutil.ParseCertsPEM(certPEM)
	if err != nil {
		return err
	}
	cert := certs[0]
	if err := cert.CheckSignatureFrom(ca); err != nil {
		return fmt.Errorf("not signed by the CA: %w", err)
	}
	for _, n := range names {
		if cert.VerifyHostname(n) != nil {
			return fmt.Errorf("does not name %s", n)
		}
	}
	if now.Add(renewBefore).After(cert.NotAfter) {
		return fmt.Errorf("expires %s", cert.NotAfter.UTC().Format(time.RFC3339))
	}
	return nil
}

// ParseKey reads an ECDSA private key from PEM (SEC 1 or PKCS #8).
func ParseKey(data []byte) (*ecdsa.PrivateKey, error) {
	key, err := keyutil.ParsePrivateKeyPEM(data)
	if err != nil {
		return nil, err
	}
	ec, ok := key.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("a %T key: only ECDSA keys are supported", key)
	}
	return ec, nil
}

// EncodeCertificate is cert as PEM.
func EncodeCertificate(cert *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: certutil.CertificateBlockType, Bytes: cert.Raw})
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic(fmt.Sprintf("read random serial: %v", err)) // crypto/rand does not fail on Linux
	}
	return n
}
