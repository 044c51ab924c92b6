package api_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/datastax/mission-control/api"
	"github.com/datastax/mission-control/api/apitest"
	"github.com/datastax/mission-control/internal/contract"
	"github.com/datastax/mission-control/operators/missioncontrol"
	"github.com/datastax/mission-control/runtime/apiservertest"
	"github.com/datastax/mission-control/runtime/k0s"
)

// issuer is an OpenID Connect issuer on loopback: its discovery document and keys.
type issuer struct {
	*httptest.Server
	key *rsa.PrivateKey
}

func newIssuer(t *testing.T) *issuer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	must(t, err)
	iss := &issuer{key: key}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"issuer": iss.URL, "jwks_uri": iss.URL + "/keys",
			"id_token_signing_alg_values_supported": []string{"RS256"}, "response_types_supported": []string{"id_token"}, "subject_types_supported": []string{"public"}})
	})
	mux.HandleFunc("/keys", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	})
	iss.Server = httptest.NewTLSServer(mux)
	t.Cleanup(iss.Close)
	return iss
}

// idToken signs an ID token of claims (over the defaults: this issuer, an hour's validity).
func (iss *issuer) idToken(t *testing.T, key *rsa.PrivateKey, claims map[string]any) string {
	t.Helper()
	all := map[string]any{"iss": iss.URL, "sub": "u-1", "aud": "mission-control", "iat": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix()}
	for k, v := range claims {
		all[k] = v
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, (&jose.SignerOptions{}).WithHeader("kid", "k1").WithType("JWT"))
	must(t, err)
	payload, err := json.Marshal(all)
	must(t, err)
	obj, err := signer.Sign(payload)
	must(t, err)
	tok, err := obj.CompactSerialize()
	must(t, err)
	return tok
}

// TestOIDCSignIn runs the API server with the flags install gives it for --oidc-issuer-url (k0s'
// APIServerArgs): an ID token of the issuer signs in, as oidc:<email> in groups oidc:<group>, and
// RBAC bound to that group decides; tokens of another key or audience are refused.
func TestOIDCSignIn(t *testing.T) {
	iss := newIssuer(t)
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: iss.Certificate().Raw})
	caFile := filepath.Join(t.TempDir(), "oidc-ca.crt") // where install keeps oidc.CA
	must(t, os.WriteFile(caFile, ca, 0o644))
	oidc := &k0s.OIDC{IssuerURL: iss.URL, ClientID: "mission-control", UsernameClaim: "email", GroupsClaim: "groups", CA: string(ca)}
	srv := apiservertest.StartWithArgs(t, oidc.APIServerArgs(caFile), "../charts/mission-control/crds")
	if srv == nil {
		return
	}
	scheme, err := missioncontrol.Scheme()
	must(t, err)
	cp, err := client.New(srv.Config, client.Options{Scheme: scheme})
	must(t, err)
	ctx := context.Background()
	must(t, cp.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: contract.Namespace}}))
	apitest.ApplyChartRoles(t, cp)
	must(t, cp.Create(ctx, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "dba-viewers"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "mission-control-viewer"},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: k0s.OIDCPrefix + "dba"}}}))
	server, err := api.New(api.Options{Kubernetes: srv.Config, Self: cp})
	must(t, err)
	hs := httptest.NewServer(server)
	t.Cleanup(hs.Close)
	e := env{&apitest.Env{CP: cp, URL: hs.URL}}

	alice := iss.idToken(t, iss.key, map[string]any{"email": "alice@example.com", "email_verified": true, "groups": []string{"dba"}})
	// The API server fetches the issuer's keys when it starts: wait until it accepts the token.
	var s api.Session
	deadline := time.Now().Add(30 * time.Second)
	for code, _ := e.call(t, alice, "GET", "/api/v1/session", nil, &s); code != 200; code, _ = e.call(t, alice, "GET", "/api/v1/session", nil, &s) {
		if time.Now().After(deadline) {
			t.Fatalf("the API server never accepted the issuer's ID token (last answer %d)", code)
		}
		time.Sleep(500 * time.Millisecond)
	}
	if s.User != "oidc:alice@example.com" || !slices.Contains(s.Groups, "oidc:dba") {
		t.Fatalf("session of an OIDC user: %+v", s)
	}
	var list api.ClusterList
	if code, msg := e.call(t, alice, "GET", "/api/v1/clusters", nil, &list); code != 200 {
		t.Fatalf("list as a viewer by group: %d %s", code, msg)
	}
	e.expect(t, 403, `User "oidc:alice@example.com" cannot create`, alice, "POST", "/api/v1/clusters",
		api.NewCluster{Namespace: "default", Name: "x", Spec: json.RawMessage(`{"k8ssandra":{"cassandra":{"datacenters":[{"metadata":{"name":"dc1"},"size":1}]}}}`)})

	other, err := rsa.GenerateKey(rand.Reader, 2048)
	must(t, err)
	for what, tok := range map[string]string{
		"another key":      iss.idToken(t, other, map[string]any{"email": "alice@example.com", "email_verified": true}),
		"another audience": iss.idToken(t, iss.key, map[string]any{"aud": "someone-else", "email": "alice@example.com", "email_verified": true}),
		"expired":          iss.idToken(t, iss.key, map[string]any{"exp": time.Now().Add(-time.Hour).Unix(), "email": "alice@example.com", "email_verified": true}),
	} {
		if code, msg := e.call(t, tok, "GET", "/api/v1/session", nil, nil); code != 401 {
			t.Errorf("an ID token of %s: %d %s, want 401", what, code, msg)
		}
	}
}
