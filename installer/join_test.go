package installer

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	k0sapi "github.com/k0sproject/k0s/pkg/apis/k0s/v1beta1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	certutil "k8s.io/client-go/util/cert"

	"github.com/datastax/mission-control/bundle"
	"github.com/datastax/mission-control/internal/license"
	"github.com/datastax/mission-control/internal/pki"
	"github.com/datastax/mission-control/internal/releasekey"
	"github.com/datastax/mission-control/runtime/k0s"
	"github.com/datastax/mission-control/runtime/k0s/jointest"
)

// joinFixture is a worker joining the cluster of controller cp-east, whose facts say it runs
// this version with the fixture's license, and whose license covers two nodes.
func joinFixture(t *testing.T, tokenUser string) (*fixture, *[]k0s.Node) {
	t.Helper()
	f := newFixture(t)
	f.cfg.LicenseFile = writeLicense(t, func(s *license.Spec) { s.Entitlements.MaxNodes = 2 })
	f.cfg.Role, f.cfg.Joined, f.cfg.CIDR = k0s.RoleWorker, true, ""
	token, _ := jointest.Token(t, tokenUser, "https://192.0.2.1:6443")
	f.cfg.JoinToken = filepath.Join(t.TempDir(), "worker.token")
	if err := os.WriteFile(f.cfg.JoinToken, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	nodes := &[]k0s.Node{{Name: "cp-east", Role: k0s.RoleController, Ready: true}}
	f.joinCluster = func(context.Context, k0s.JoinToken) (k0s.JoinFacts, []k0s.Node, error) {
		return k0s.JoinFacts{LicenseID: "L-TEST-0001", Mode: "control-plane", PodCIDR: "10.244.0.0/17", ServiceCIDR: "10.244.128.0/17", Version: "v0.0.0-test"}, *nodes, nil
	}
	return f, nodes
}

// TestJoinPlan: a join checks the token, the cluster, the license and its node limit, then
// stages the runtime as install does and starts k0s' worker with the token; it writes no
// runtime configuration of its own (the controller serves it) and records the worker's role.
func TestJoinPlan(t *testing.T) {
	f, _ := joinFixture(t, "kubelet-bootstrap")
	installWants(t, f, "read-join-token=ok check-cluster=ok verify-license=ok check-node-limit=ok plan-network=ok check-install-state=ok host-preflights=ok "+
		"prepare-data-dir=ok write-install-state=ok write-license=ok write-preflight-results=ok record-host-state=ok stage-runtime=ok "+
		"write-containerd-config=ok write-cni-config=ok write-join-token=ok start-runtime=ok wait-for-node=ok")
	ops := strings.Join(opLines(f.rec.Ops(), f.cfg.DataDir), "\n")
	for _, line := range []string{
		"write-join-token: write $DATA/etc/join-token 0600",
		"start-runtime: start $DATA/log/k0s.log",
	} {
		if !strings.Contains(ops, line) {
			t.Errorf("no %q among the ops:\n%s", line, ops)
		}
	}
	if strings.Contains(ops, "k0s.yaml") || strings.Contains(ops, "manifests") {
		t.Errorf("a worker wrote the controller's configuration:\n%s", ops)
	}
	started := f.rec.Ops()
	var command string
	for _, op := range started {
		if op.Step == "start-runtime" && op.Kind == "start" {
			command = op.Command
		}
	}
	if !strings.Contains(command, "k0s worker --token-file "+f.cfg.DataDir+"/etc/join-token") {
		t.Errorf("started %q", command)
	}
	state, err := LoadState(f.rec, f.cfg.Paths())
	if err != nil || state.Role != k0s.RoleWorker || state.Controller != "https://192.0.2.1:6443" || state.Mode != "control-plane" || state.PodCIDR != "10.244.0.0/17" {
		t.Errorf("state %+v, %v", state, err)
	}
	// Reset leaves the cluster first, while the runtime still runs.
	res, err := (&Reset{DataDir: f.cfg.DataDir, Env: f.env(f.rec)}).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Step != "wait-for-node" || !strings.Contains(res[0].Detail, "would drain node node-1") || res[1].Step != "start-runtime" {
		t.Errorf("reset began %+v, then %+v", res[0], res[1])
	}
}

// TestControllerJoinPlan: a controller's join stages the runtime and writes install's runtime
// config and manifests (it may lead, and then applies them), starts k0s' controller with the
// token, waits for its API, and warns that two controllers tolerate no more down than one. Reset
// leaves the cluster first: drained, deleted, its etcd member removed.
func TestControllerJoinPlan(t *testing.T) {
	f, _ := joinFixture(t, "controller-bootstrap")
	f.cfg.Role = k0s.RoleController
	results := installWants(t, f, "read-join-token=ok check-cluster=ok verify-license=ok check-node-limit=ok plan-network=ok check-install-state=ok host-preflights=ok "+
		"prepare-data-dir=ok write-install-state=ok write-license=ok write-preflight-results=ok record-host-state=ok stage-runtime=ok "+
		"write-runtime-config=ok write-containerd-config=ok write-cni-config=ok write-network-manifest=ok write-join-manifest=ok write-join-token=ok "+
		"start-runtime=ok wait-for-api=ok write-kubeconfig=ok wait-for-node=ok")
	if !strings.Contains(results[1].Detail, "with 2 controllers etcd needs 2 of them up") {
		t.Errorf("check-cluster said %q: want the quorum warning", results[1].Detail)
	}
	var command string
	for _, op := range f.rec.Ops() {
		if op.Step == "start-runtime" && op.Kind == "start" {
			command = op.Command
		}
	}
	if !strings.Contains(command, "k0s controller --enable-worker --no-taints --config "+f.cfg.DataDir+"/etc/k0s.yaml --token-file "+f.cfg.DataDir+"/etc/join-token") {
		t.Errorf("started %q", command)
	}
	state, err := LoadState(f.rec, f.cfg.Paths())
	if err != nil || state.Role != k0s.RoleController || !state.Joined || state.Controller != "https://192.0.2.1:6443" {
		t.Errorf("state %+v, %v", state, err)
	}
	res, err := (&Reset{DataDir: f.cfg.DataDir, Env: f.env(f.rec)}).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Step != "wait-for-node" || !strings.Contains(res[0].Detail, "remove its etcd member, if other controllers remain") {
		t.Errorf("reset began %+v", res[0])
	}
}

// TestJoinRefusals: a bad token, another cluster's version or license, or a cluster at its
// license's node limit is refused before the host changes.
func TestJoinRefusals(t *testing.T) {
	for _, tc := range []struct {
		name    string
		user    string
		mutate  func(*fixture, *[]k0s.Node)
		wantErr string
	}{
		{"a token of another role than planned", "controller-bootstrap", nil, "the join token joins a controller and this join was planned for a worker"},
		{"not a token", "kubelet-bootstrap", func(f *fixture, _ *[]k0s.Node) {
			_ = os.WriteFile(f.cfg.JoinToken, []byte(strings.Repeat("!", 200)), 0o600)
		}, "is not one (not base64)"},
		{"no such file", "kubelet-bootstrap", func(f *fixture, _ *[]k0s.Node) { f.cfg.JoinToken = "/nonexistent/worker.token" },
			"join token file /nonexistent/worker.token does not exist"},
		{"another version", "kubelet-bootstrap", func(f *fixture, _ *[]k0s.Node) {
			facts := f.joinCluster
			f.joinCluster = func(ctx context.Context, tok k0s.JoinToken) (k0s.JoinFacts, []k0s.Node, error) {
				jf, n, err := facts(ctx, tok)
				jf.Version = "v9"
				return jf, n, err
			}
		}, "runs mission-control v9 and this is v0.0.0-test"},
		{"another license", "kubelet-bootstrap", func(f *fixture, _ *[]k0s.Node) {
			f.cfg.LicenseFile = writeLicense(t, func(s *license.Spec) { s.LicenseID = "L-OTHER" })
		}, "--license is L-OTHER and the cluster was installed with L-TEST-0001"},
		{"an expired license", "kubelet-bootstrap", func(f *fixture, _ *[]k0s.Node) {
			f.cfg.LicenseFile = writeLicense(t, func(s *license.Spec) {
				s.Entitlements.MaxNodes, s.IssuedAt, s.ExpiresAt = 2, testNow.Add(-48*time.Hour), testNow.Add(-time.Hour)
			})
		}, "L-TEST-0001 expired on"},
		{"node limit", "kubelet-bootstrap", func(_ *fixture, nodes *[]k0s.Node) {
			*nodes = append(*nodes, k0s.Node{Name: "worker-1", Role: k0s.RoleWorker})
		}, "license L-TEST-0001 covers 2 nodes and the cluster has 2 (cp-east, worker-1)"},
		{"token refused", "kubelet-bootstrap", func(f *fixture, _ *[]k0s.Node) {
			f.joinCluster = func(_ context.Context, tok k0s.JoinToken) (k0s.JoinFacts, []k0s.Node, error) {
				return k0s.JoinFacts{}, nil, joinAPIError(tok, apierrors.NewUnauthorized("Unauthorized"))
			}
		}, "refused the join token abcdef (it expired or was deleted)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, nodes := joinFixture(t, tc.user)
			if tc.mutate != nil {
				tc.mutate(f, nodes)
			}
			_, err := f.install(t)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error = %v\nwant it to contain %s", err, tc.wantErr)
			}
			if len(f.rec.Ops()) > 0 {
				t.Fatalf("changed the host: %v", f.rec.Ops())
			}
		})
	}
}

// TestRejoinIsNotCountedTwice: a node whose Node object outlived its reset joins again under its
// name within the limit.
func TestRejoinIsNotCountedTwice(t *testing.T) {
	f, nodes := joinFixture(t, "kubelet-bootstrap")
	*nodes = append(*nodes, k0s.Node{Name: "node-1", Role: k0s.RoleWorker})
	if _, err := f.install(t); err != nil {
		t.Fatal(err)
	}
}

// TestJoinAPIError: what each refusal of the cluster tells the user.
func TestJoinAPIError(t *testing.T) {
	tok := k0s.JoinToken{Server: "https://192.0.2.1:6443", Bearer: "abcdef.0123456789abcdef"}
	gr := schema.GroupResource{Resource: "configmaps"}
	for _, tc := range []struct {
		err  error
		want string
	}{
		{apierrors.NewUnauthorized("x"), "node join-command --role worker"},
		{apierrors.NewForbidden(gr, "mission-control-join", errors.New("x")), "does not let nodes join"},
		{apierrors.NewNotFound(gr, "mission-control-join"), "does not let nodes join"},
		{apierrors.NewInternalError(errors.New("x")), "failed to answer"},
		{errors.New("dial tcp 192.0.2.1:6443: connect: connection refused"), "cannot reach the cluster at https://192.0.2.1:6443"},
	} {
		if got := joinAPIError(tok, tc.err); !strings.Contains(got.Error(), tc.want) {
			t.Errorf("%v: %v; want %q", tc.err, got, tc.want)
		}
	}
}

// TestControllerJoinCheckSignsItselfIn: a controller's token is good only for k0s' join API; the
// check takes the cluster's CA from it and signs itself a short certificate in the bootstrap
// tokens' group, for the API's port on the same host. A refused token says so.
func TestControllerJoinCheckSignsItselfIn(t *testing.T) {
	now := time.Now()
	ca, err := pki.NewCA("kubernetes-ca", time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	certPEM, keyPEM, err := ca.IssueServing([]string{"localhost"}, time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	serving, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	var bearer string
	refuse := false
	api := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		bearer = r.Header.Get("Authorization")
		if refuse || r.URL.Path != "/v1beta1/ca" {
			http.Error(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Unauthorized","code":401}`, http.StatusUnauthorized)
			return
		}
		_ = json.NewEncoder(w).Encode(k0sapi.CaResponse{Cert: ca.CertPEM, Key: ca.KeyPEM})
	}))
	api.TLS = &tls.Config{Certificates: []tls.Certificate{serving}}
	api.StartTLS()
	defer api.Close()
	server := strings.Replace(api.URL, "127.0.0.1", "localhost", 1)
	token, err := k0s.ParseJoinToken(jointest.TokenWithCA(t, "controller-bootstrap", server, ca.CertPEM))
	if err != nil {
		t.Fatal(err)
	}

	config, err := joinClientConfig(context.Background(), token, now)
	if err != nil {
		t.Fatal(err)
	}
	if bearer != "Bearer abcdef.0123456789abcdef" || config.Host != "https://localhost:6443" || config.BearerToken != "" {
		t.Errorf("asked with %q; client for %s (bearer %q): want the token at the join API, then the API's port", bearer, config.Host, config.BearerToken)
	}
	certs, err := certutil.ParseCertsPEM(config.CertData)
	if err != nil {
		t.Fatal(err)
	}
	if c := certs[0]; c.CheckSignatureFrom(ca.Cert) != nil || c.Subject.Organization[0] != k0s.BootstrapGroup || c.NotAfter.After(now.Add(11*time.Minute)) {
		t.Errorf("certificate %v until %s: want the cluster CA's, in %s, for ten minutes", c.Subject, c.NotAfter, k0s.BootstrapGroup)
	}

	refuse = true
	if _, err := joinClientConfig(context.Background(), token, now); err == nil || !strings.Contains(err.Error(), "refused the join token abcdef (it expired or was deleted)") {
		t.Errorf("refused token: %v", err)
	}
}

// TestAirgapJoin: a cluster installed from an air-gap bundle is joined with the same bundle,
// whose images are staged as install stages them; no bundle, or another one, is refused before
// the host changes, as is a bundle for a cluster installed online.
func TestAirgapJoin(t *testing.T) {
	bundlePath := airgapBundle(t, "v0.0.0-test", runtime.GOARCH, nil)
	data, err := os.ReadFile(bundlePath)
	if err != nil {
		t.Fatal(err)
	}
	m, err := bundle.Verify(context.Background(), bytes.NewReader(data), releasekey.Trusted(), bundle.Handlers{})
	if err != nil {
		t.Fatal(err)
	}
	other := airgapBundle(t, "v0.0.0-test", runtime.GOARCH, nil, "other")
	for _, tc := range []struct {
		name, clusterBundle, joinBundle, wantErr string
	}{
		{"the cluster's bundle", m.ID(), bundlePath, ""},
		{"no bundle", m.ID(), "", "was installed from the air-gap bundle v0.0.0-test built 2026-"},
		{"another bundle", m.ID(), other, "and the cluster was installed from v0.0.0-test built"},
		{"a bundle for an online cluster", "", bundlePath, "was installed without an air-gap bundle: join without --airgap-bundle"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, _ := joinFixture(t, "kubelet-bootstrap")
			f.cfg.LicenseFile = writeLicense(t, func(s *license.Spec) { s.Entitlements.MaxNodes, s.Entitlements.Airgap = 2, true })
			f.cfg.AirgapBundle = tc.joinBundle
			facts := f.joinCluster
			f.joinCluster = func(ctx context.Context, tok k0s.JoinToken) (k0s.JoinFacts, []k0s.Node, error) {
				jf, n, err := facts(ctx, tok)
				jf.Bundle = tc.clusterBundle
				return jf, n, err
			}
			results, err := f.install(t)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if got := outcomes(results); !strings.Contains(got, "host-preflights=ok verify-airgap-bundle=ok") || !strings.Contains(got, "stage-runtime=ok stage-airgap-images=ok") {
					t.Errorf("outcomes %s", got)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error = %v\nwant it to contain %s", err, tc.wantErr)
			}
			if len(f.rec.Ops()) > 0 {
				t.Fatalf("changed the host: %v", f.rec.Ops())
			}
		})
	}
}
