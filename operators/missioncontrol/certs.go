package missioncontrol

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"slices"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	certutil "k8s.io/client-go/util/cert"
	"software.sslmate.com/src/go-pkcs12"

	"github.com/datastax/mission-control/internal/pki"
	"github.com/datastax/mission-control/operators/missioncontrol/api/v1beta1"
)

// Certificate lifetimes. A cluster's CA lives ten years and is replaced a year before it expires;
// its previous CA stays in the truststores until it expires, so nodes still presenting a
// certificate from it are trusted while every store is re-issued. Internode certificates live
// certTemplate.duration (default a year) and are re-issued renewBefore (default 30 days, or a
// third of a shorter duration) before they expire.
const (
	caValidity         = 10 * 365 * 24 * time.Hour
	caRenewBefore      = 365 * 24 * time.Hour
	defaultCertLife    = 365 * 24 * time.Hour
	defaultRenewBefore = 30 * 24 * time.Hour
)

// Keys of the Secrets the operator writes. The store keys are k8ssandra's defaults, so the
// K8ssandraCluster's serverEncryptionStores need only the Secrets' names.
const (
	keyCACert             = "ca.crt" // the trusted CAs, PEM, newest first
	keyTLSCert            = "tls.crt"
	keyTLSKey             = "tls.key"
	keyKeystore           = "keystore"
	keyKeystorePassword   = "keystore-password"
	keyTruststore         = "truststore"
	keyTruststorePassword = "truststore-password"
)

// certPolicy is what a MissionControlCluster asks of internode certificates.
type certPolicy struct {
	// Issue is true when the operator issues the internode stores.
	Issue                 bool
	Duration, RenewBefore time.Duration
	// IssuerRef names a cert-manager CA issuer to sign with; nil means the cluster's own CA.
	IssuerRef *v1beta1.IssuerRef
}

// certPolicyOf reads the spec, refusing combinations that cannot produce certificates.
func certPolicyOf(spec v1beta1.MissionControlClusterSpec) (certPolicy, error) {
	p := certPolicy{Duration: defaultCertLife, RenewBefore: defaultRenewBefore}
	ie := (*v1beta1.InternodeEncryption)(nil)
	if spec.Encryption != nil {
		ie = spec.Encryption.InternodeEncryption
	}
	if ie == nil || !ie.Enabled || ie.Certs == nil || !ie.Certs.CreateCerts {
		return p, nil // no encryption, or stores the user provides in the k8ssandra spec
	}
	p.Issue, p.IssuerRef = true, ie.Certs.IssuerRef
	if p.IssuerRef == nil && !spec.CreateIssuer {
		return p, fmt.Errorf("encryption.internodeEncryption.certs.createCerts needs an issuer: set createIssuer: true or certs.issuerRef")
	}
	if t := ie.Certs.CertTemplate; t != nil {
		if t.Duration != nil {
			p.Duration = t.Duration.Duration
		}
		if t.RenewBefore != nil {
			p.RenewBefore = t.RenewBefore.Duration
		} else {
			p.RenewBefore = min(defaultRenewBefore, p.Duration/3) // a short certificate renews at two thirds of its life
		}
	}
	if p.Duration < time.Hour || p.RenewBefore <= 0 || p.RenewBefore >= p.Duration {
		return p, fmt.Errorf("certTemplate: duration (%s) must be at least 1h and renewBefore (%s) positive and shorter", p.Duration, p.RenewBefore)
	}
	return p, nil
}

// authority signs a cluster's certificates; Trusted are the CAs its truststores hold.
type authority struct {
	CA      pki.CA
	Trusted []*x509.Certificate
}

// trustedPEM is the truststore's contents as a PEM bundle, newest CA first.
func (a authority) trustedPEM() []byte {
	var b bytes.Buffer
	for _, c := range a.Trusted {
		b.Write(pki.EncodeCertificate(c))
	}
	return b.Bytes()
}

// rotateCA returns the Secret data of a cluster's own CA at now: data itself when its CA is
// good for more than caRenewBefore, else a new CA with the previous one still trusted until it
// expires. changed says whether the Secret must be written.
func rotateCA(data map[string][]byte, commonName string, now time.Time) (map[string][]byte, authority, bool, error) {
	current, err := pki.ParseCA(data[keyTLSCert], data[keyTLSKey])
	fresh := err != nil || now.Add(caRenewBefore).After(current.Cert.NotAfter)
	var trusted []*x509.Certificate
	if err == nil {
		previous, _ := certutil.ParseCertsPEM(data[keyCACert])
		trusted = unexpired(previous, now)
	}
	if fresh {
		if current, err = pki.NewCA(commonName, caValidity, now); err != nil {
			return nil, authority{}, false, err
		}
	}
	trusted = withFirst(current.Cert, trusted)
	a := authority{CA: current, Trusted: trusted}
	out := map[string][]byte{keyTLSCert: current.CertPEM, keyTLSKey: current.KeyPEM, keyCACert: a.trustedPEM()}
	changed := fresh || !bytes.Equal(out[keyCACert], data[keyCACert])
	return out, a, changed, nil
}

// issuerAuthority is the authority of a cert-manager CA issuer's Secret (tls.crt, tls.key,
// optionally ca.crt). previouslyTrusted are the CAs the cluster's truststores held so far: they
// stay trusted until they expire, so that the issuer's owner can rotate its CA.
func issuerAuthority(data map[string][]byte, previouslyTrusted []byte, now time.Time) (authority, error) {
	ca, err := pki.ParseCA(data[keyTLSCert], data[keyTLSKey])
	if err != nil {
		return authority{}, fmt.Errorf("the issuer's Secret does not hold a CA certificate and its ECDSA key (tls.crt, tls.key): %w", err)
	}
	previous, _ := certutil.ParseCertsPEM(previouslyTrusted)
	return authority{CA: ca, Trusted: withFirst(ca.Cert, unexpired(previous, now))}, nil
}

// storeSet is the Secret data of one K8ssandraCluster's keystore and truststore; nil maps are
// stores that need no writing.
type storeSet struct {
	Keystore, Truststore map[string][]byte
}

// issuedStores is what the operator records on a K8ssandraCluster about the stores it wrote: the
// keystore's certificate and the digest of the truststore's CAs. The operator may only write
// Secrets in a data plane, never read them (see the data plane role), so this record is how it
// knows whether the stores are current.
type issuedStores struct {
	CertPEM     string
	TrustDigest string
}

// Annotations carrying issuedStores on a K8ssandraCluster.
const (
	annotationCertificate = "missioncontrol.datastax.com/internode-certificate"
	annotationTrust       = "missioncontrol.datastax.com/truststore-cas"
)

func issuedStoresOf(kc *unstructured.Unstructured) issuedStores {
	if kc == nil {
		return issuedStores{}
	}
	a := kc.GetAnnotations()
	return issuedStores{CertPEM: a[annotationCertificate], TrustDigest: a[annotationTrust]}
}

// issueStores returns the stores a K8ssandraCluster whose nodes answer to names needs written,
// given what was issued before: a truststore when the trusted CAs changed, a keystore when its
// certificate no longer holds (another CA, a missing name, or due for renewal).
func issueStores(prev issuedStores, a authority, names []string, p certPolicy, now time.Time) (storeSet, issuedStores, error) {
	var out storeSet
	next := prev
	bundle := a.trustedPEM()
	if digest := fmt.Sprintf("%x", sha256.Sum256(bundle)); digest != prev.TrustDigest {
		password := randomPassword()
		store, err := pkcs12.Modern2023.EncodeTrustStore(a.Trusted, password)
		if err != nil {
			return storeSet{}, prev, fmt.Errorf("encode truststore: %w", err)
		}
		out.Truststore = map[string][]byte{keyTruststore: store, keyTruststorePassword: []byte(password), keyCACert: bundle}
		next.TrustDigest = digest
	}
	if a.CA.CheckServing([]byte(prev.CertPEM), names, now, p.RenewBefore) == nil {
		return out, next, nil
	}
	certPEM, keyPEM, err := a.CA.Issue(names, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}, p.Duration, now)
	if err != nil {
		return storeSet{}, prev, err
	}
	certs, err := certutil.ParseCertsPEM(certPEM)
	if err != nil {
		return storeSet{}, prev, err
	}
	key, err := pki.ParseKey(keyPEM)
	if err != nil {
		return storeSet{}, prev, err
	}
	password := randomPassword()
	store, err := pkcs12.Modern2023.Encode(key, certs[0], []*x509.Certificate{a.CA.Cert}, password)
	if err != nil {
		return storeSet{}, prev, fmt.Errorf("encode keystore: %w", err)
	}
	out.Keystore = map[string][]byte{keyKeystore: store, keyKeystorePassword: []byte(password), keyTLSCert: certPEM, keyCACert: a.CA.CertPEM}
	next.CertPEM = string(certPEM)
	return out, next, nil
}

// internodeNames are the DNS names a K8ssandraCluster's nodes answer to: cass-operator's
// per-datacenter services, and their pods under the headless service.
func internodeNames(cluster, namespace string, datacenters []string) []string {
	var names []string
	for _, dc := range datacenters {
		svc := fmt.Sprintf("%s-%s-service.%s.svc", cleanName(cluster), dc, namespace)
		names = append(names, svc, "*."+svc, fmt.Sprintf("%s-%s-all-pods-service.%s.svc", cleanName(cluster), dc, namespace))
	}
	return names
}

func unexpired(certs []*x509.Certificate, now time.Time) []*x509.Certificate {
	return slices.DeleteFunc(slices.Clone(certs), func(c *x509.Certificate) bool { return now.After(c.NotAfter) })
}

// withFirst puts cert first in certs, once.
func withFirst(cert *x509.Certificate, certs []*x509.Certificate) []*x509.Certificate {
	out := []*x509.Certificate{cert}
	for _, c := range certs {
		if !c.Equal(cert) {
			out = append(out, c)
		}
	}
	return out
}

// randomPassword protects a store: the password sits next to it in the same Secret (Cassandra
// needs both), so it guards against the store leaking alone, not against Secret readers.
func randomPassword() string {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("read random password: %v", err)) // crypto/rand does not fail on Linux
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
