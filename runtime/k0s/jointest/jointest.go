// Package jointest makes join tokens as k0s token create does, for tests: a kubeconfig with a
// real CA certificate and a bootstrap token, gzipped and base64-encoded.
package jointest

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/datastax/mission-control/internal/pki"
)

// Token is a join token for user (k0s' kubelet-bootstrap for workers, controller-bootstrap for
// controllers) at server, and the CA certificate it carries.
func Token(t testing.TB, user, server string) (token string, caPEM []byte) {
	t.Helper()
	ca, err := pki.NewCA("kubernetes-ca", time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return TokenWithCA(t, user, server, ca.CertPEM), ca.CertPEM
}

// TokenWithCA is a join token for user at server that trusts the CA certificate caPEM.
func TokenWithCA(t testing.TB, user, server string, caPEM []byte) string {
	t.Helper()
	kubeconfig, err := clientcmd.Write(clientcmdapi.Config{
		Clusters:       map[string]*clientcmdapi.Cluster{"k0s": {Server: server, CertificateAuthorityData: caPEM}},
		Contexts:       map[string]*clientcmdapi.Context{"k0s": {Cluster: "k0s", AuthInfo: user}},
		CurrentContext: "k0s",
		AuthInfos:      map[string]*clientcmdapi.AuthInfo{user: {Token: "abcdef.0123456789abcdef"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	if _, err := w.Write(kubeconfig); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(gz.Bytes())
}
