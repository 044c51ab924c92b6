// Package apitest runs the Mission Control API in tests against a real Kubernetes API server: a
// control plane with the chart's roles for users and for the server, a registered data plane
// that answers (DP_WEST) and one that does not (DP_GONE), and a token per kind of user.
package apitest

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/datastax/mission-control/api"
	"github.com/datastax/mission-control/charts"
	"github.com/datastax/mission-control/internal/contract"
	"github.com/datastax/mission-control/operators/missioncontrol"
	"github.com/datastax/mission-control/runtime/apiservertest"
	"github.com/datastax/mission-control/runtime/k0s"
)

// crdDir is the chart's CRDs, found from the module's root: the tests using this package live in
// several folders (and -trimpath leaves no source path to start from).
func crdDir(t *testing.T) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "charts", "mission-control", "crds")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("apitest: no go.mod above the test's directory")
		}
		dir = parent
	}
}

// Env is a control plane (with the chart's user roles, a registered data plane DP_WEST that
// answers and one, DP_GONE, that does not) and the API server in front of it.
type Env struct {
	// CP reaches the control plane as a member of system:masters.
	CP client.Client
	// URL is the API server's (plain HTTP on loopback).
	URL string
	// Tokens are bearer tokens by user: "admin" (the chart's mission-control-admin account),
	// "viewer" (bound to mission-control-viewer) and "nobody" (bound to nothing).
	Tokens map[string]string
}

// Start starts it all for t and stops it when t ends; nil when the runtime payload is not built
// (t is skipped then, see apiservertest).
func Start(t *testing.T) *Env {
	t.Helper()
	servers := apiservertest.StartN(t, 2, crdDir(t))
	if servers == nil {
		return nil
	}
	cpCfg, dpCfg := servers[0].Config, servers[1].Config
	scheme, err := missioncontrol.Scheme()
	if err != nil {
		t.Fatal(err)
	}
	cp, err := client.New(cpCfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, ns := range []string{contract.Namespace, "demo", "elsewhere"} {
		must(t, cp.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}))
	}
	ApplyChartRoles(t, cp)
	e := &Env{CP: cp, Tokens: map[string]string{}}
	e.Tokens["admin"] = serviceAccountToken(t, cpCfg, "mission-control-admin", "mission-control-admin")
	e.Tokens["viewer"] = serviceAccountToken(t, cpCfg, "alice", "mission-control-viewer")
	e.Tokens["nobody"] = serviceAccountToken(t, cpCfg, "mallory", "")
	register(t, cp, "dp-west", "DP_WEST", dpCfg.Host, dpCfg, "demo")
	register(t, cp, "dp-gone", "DP_GONE", "https://127.0.0.1:1", dpCfg, "demo")

	// The server's own identity: the chart's Role for it, nothing more.
	self := impersonating(t, cpCfg, cp, "system:serviceaccount:mission-control:mission-control-api")
	selfClient, err := client.New(self, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := api.New(api.Options{Kubernetes: cpCfg, Self: selfClient, DataPlaneTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	e.URL = hs.URL
	return e
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// ApplyChartRoles creates what the chart gives the API and its users: the user roles, and the
// server's own Role and binding.
func ApplyChartRoles(t *testing.T, c client.Client) {
	t.Helper()
	ch, err := charts.Load("v0.0.0-test")
	must(t, err)
	objs, err := charts.Render(ch, "mission-control", k0s.KubernetesVersion, charts.Values{Mode: "control-plane", Webhook: charts.WebhookTLS{CABundle: []byte("ca"), Cert: []byte("cert"), Key: []byte("key")}})
	must(t, err)
	n := 0
	for _, o := range objs {
		if o.GetLabels()["app.kubernetes.io/part-of"] != "mission-control" {
			continue
		}
		name := o.GetName()
		wanted := map[string]bool{"ClusterRole/mission-control-admin": true, "ClusterRole/mission-control-viewer": true,
			"Role/mission-control-api": true, "RoleBinding/mission-control-api": true}
		if !wanted[o.GetKind()+"/"+name] {
			continue
		}
		must(t, c.Create(context.Background(), o))
		n++
	}
	if n != 4 {
		t.Fatalf("the chart renders %d of the API's 4 roles and bindings", n)
	}
}

// serviceAccountToken makes a ServiceAccount in the mission-control namespace bound to role (none
// when empty) and returns a token of it.
func serviceAccountToken(t *testing.T, cfg *rest.Config, name, role string) string {
	t.Helper()
	ctx := context.Background()
	cs := kubernetes.NewForConfigOrDie(cfg)
	_, err := cs.CoreV1().ServiceAccounts(contract.Namespace).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	must(t, err)
	if role != "" {
		_, err = cs.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name + "-" + role},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
			Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: name, Namespace: contract.Namespace}}}, metav1.CreateOptions{})
		must(t, err)
	}
	tr, err := cs.CoreV1().ServiceAccounts(contract.Namespace).CreateToken(ctx, name, &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](3600)}}, metav1.CreateOptions{})
	must(t, err)
	return tr.Status.Token
}

// impersonating reaches the API server as user (an admin impersonates it), the account created.
func impersonating(t *testing.T, admin *rest.Config, c client.Client, user string) *rest.Config {
	t.Helper()
	parts := strings.Split(user, ":")
	_ = c.Create(context.Background(), &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: parts[3], Namespace: parts[2]}})
	cfg := rest.CopyConfig(admin)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: user, Groups: []string{"system:serviceaccounts", "system:authenticated"}}
	return cfg
}

// register records a registration of contextName reaching server with cfg's credential,
// covering namespaces.
func register(t *testing.T, c client.Client, name, contextName, server string, cfg *rest.Config, namespaces ...string) {
	t.Helper()
	kc := clientcmdapi.NewConfig()
	kc.Clusters[contextName] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: cfg.CAData}
	kc.AuthInfos[contextName] = &clientcmdapi.AuthInfo{ClientCertificateData: cfg.CertData, ClientKeyData: cfg.KeyData}
	kc.Contexts[contextName] = &clientcmdapi.Context{Cluster: contextName, AuthInfo: contextName}
	kc.CurrentContext = contextName
	data, err := clientcmd.Write(*kc)
	must(t, err)
	ctx := context.Background()
	must(t, c.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name + "-config", Namespace: contract.Namespace}, Data: map[string][]byte{contract.KubeconfigKey: data}}))
	cc := &unstructured.Unstructured{}
	cc.SetGroupVersionKind(contract.ClientConfigGVK)
	cc.SetNamespace(contract.Namespace)
	cc.SetName(name)
	cc.SetAnnotations(map[string]string{contract.NamespacesAnnotation: strings.Join(namespaces, ",")})
	cc.Object["spec"] = map[string]any{"contextName": contextName, "kubeConfigSecret": map[string]any{"name": name + "-config"}}
	must(t, c.Create(ctx, cc))
}
