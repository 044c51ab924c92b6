package node

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"software.sslmate.com/src/go-pkcs12"
)

// stores writes a PKCS#12 keystore (a leaf signed by a new CA) and truststore (that CA), as the
// mission-control-operator issues them, and returns cassandra.yaml's server_encryption_options.
func stores(t *testing.T, dir string) map[string]string {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leafDER, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "node"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}, KeyUsage: x509.KeyUsageDigitalSignature,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(leafDER)
	ks, err := pkcs12.Modern2023.Encode(key, leaf, []*x509.Certificate{ca}, "ks-pass")
	if err != nil {
		t.Fatal(err)
	}
	ts, err := pkcs12.Modern2023.EncodeTrustStore([]*x509.Certificate{ca}, "ts-pass")
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "keystore"), string(ks))
	write(t, filepath.Join(dir, "truststore"), string(ts))
	return map[string]string{"internode_encryption": "all", "keystore": filepath.Join(dir, "keystore"), "keystore_password": "ks-pass",
		"truststore": filepath.Join(dir, "truststore"), "truststore_password": "ts-pass"}
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// configFileData is cass-operator's CONFIG_FILE_DATA for a datacenter (serverconfig.GetConfigAsJSON).
func configFileData(t *testing.T, cluster, dc string, encryption map[string]string) string {
	t.Helper()
	yaml := map[string]any{"num_tokens": 16}
	if encryption != nil {
		yaml["server_encryption_options"] = encryption
	}
	b, err := json.Marshal(map[string]any{
		"cluster-info":    map[string]string{"name": cluster, "seeds": cluster + "-seed-service," + cluster + "-" + dc + "-additional-seed-service"},
		"datacenter-info": map[string]any{"name": dc, "graph-enabled": 0, "solr-enabled": 0, "spark-enabled": 0},
		"cassandra-yaml":  yaml,
		"jvm-options":     map[string]string{"initial_heap_size": "1G"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

type testNode struct {
	*Node
	api  *httptest.Server
	data string
}

// newNode renders a node's config as the init container would and starts it on ip: seeds
// resolve to seedIP, as cass-operator's seed service does once the first node is labelled.
func newNode(t *testing.T, ctx context.Context, ip, cluster, dc, rack, seedIP string, encryption map[string]string, data string) testNode {
	t.Helper()
	config := t.TempDir()
	if err := Render(config, configFileData(t, cluster, dc, encryption), rack, "4.0.11"); err != nil {
		t.Fatal(err)
	}
	if data == "" {
		data = t.TempDir()
	}
	n, err := New(Options{ConfigDir: config, DataDir: data, LogDir: t.TempDir(), IP: ip, GossipInterval: 100 * time.Millisecond,
		Resolve: func(_ context.Context, name string) ([]string, error) {
			if strings.HasSuffix(name, "-seed-service") && !strings.Contains(name, "additional") {
				return []string{seedIP}, nil
			}
			return nil, fmt.Errorf("%s: no such host", name)
		}})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Listen(ctx); err != nil {
		t.Fatal(err)
	}
	api := httptest.NewServer(n.Handler())
	t.Cleanup(api.Close)
	return testNode{Node: n, api: api, data: data}
}

func (n testNode) call(t *testing.T, method, path string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, n.api.URL+path, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// waitRing waits until every node lists want members, all alive.
func waitRing(t *testing.T, want int, nodes ...testNode) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for _, n := range nodes {
		for {
			_, body := n.call(t, "GET", "/api/v0/metadata/endpoints")
			var eps struct{ Entity []map[string]string }
			_ = json.Unmarshal([]byte(body), &eps)
			alive := 0
			for _, e := range eps.Entity {
				if e["IS_ALIVE"] == "true" && e["STATUS"] == "NORMAL" {
					alive++
				}
			}
			if alive == want {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s lists %d alive members, want %d: %s", n.ring.self.IP, alive, want, body)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// A ring of three over mutual TLS on 7001: not ready before lifecycle/start, ready once in the
// ring; each lists all three by address; a node restarted on its volume keeps its host ID and
// marker; a node whose certificate another CA signed is kept out.
func TestRingOverTLS(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	enc := stores(t, t.TempDir())
	a := newNode(t, ctx, "127.0.0.11", "demo", "dc1", "r1", "127.0.0.11", enc, "")
	b := newNode(t, ctx, "127.0.0.12", "demo", "dc1", "r1", "127.0.0.11", enc, "")
	c := newNode(t, ctx, "127.0.0.13", "demo", "dc2", "r1", "127.0.0.11", enc, "")
	if a.internodePort() != SSLStoragePort || a.serverTLS == nil {
		t.Fatalf("internode: port %d, TLS %v", a.internodePort(), a.serverTLS != nil)
	}
	for _, n := range []testNode{a, b, c} {
		if code, body := n.call(t, "GET", "/api/v0/probes/readiness"); code != 500 || !strings.Contains(body, "not started") {
			t.Errorf("readiness before start: %d %s", code, body)
		}
		if code, _ := n.call(t, "GET", "/api/v0/probes/liveness"); code != 200 {
			t.Errorf("liveness before start: %d", code)
		}
		if code, _ := n.call(t, "POST", "/api/v0/lifecycle/start"); code != 201 {
			t.Errorf("start: %d", code)
		}
	}
	if code, _ := a.call(t, "POST", "/api/v0/lifecycle/start"); code != 202 {
		t.Errorf("a second start: %d, want 202", code)
	}
	waitRing(t, 3, a, b, c)
	for _, n := range []testNode{a, b, c} {
		if code, _ := n.call(t, "GET", "/api/v0/probes/readiness"); code != 200 {
			t.Errorf("%s readiness after joining: %d", n.ring.self.IP, code)
		}
	}
	_, body := c.call(t, "GET", "/api/v0/metadata/endpoints")
	for _, want := range []string{`"ENDPOINT_IP":"127.0.0.11"`, `"ENDPOINT_IP":"127.0.0.12"`, `"DC":"dc2"`, `"IS_LOCAL":"true"`, `"HOST_ID":"` + a.ring.self.HostID} {
		if !strings.Contains(body, want) {
			t.Errorf("endpoints lack %s: %s", want, body)
		}
	}
	if code, _ := a.call(t, "GET", "/api/v0/probes/cluster?consistency_level=LOCAL_QUORUM&rf_per_dc=1"); code != 200 {
		t.Errorf("cluster probe: %d", code)
	}

	// Another CA: the handshake fails both ways, and the ring stays three.
	other := stores(t, t.TempDir())
	d := newNode(t, ctx, "127.0.0.14", "demo", "dc1", "r1", "127.0.0.11", other, "")
	d.call(t, "POST", "/api/v0/lifecycle/start")
	time.Sleep(500 * time.Millisecond)
	if code, _ := d.call(t, "GET", "/api/v0/probes/readiness"); code != 500 {
		t.Errorf("a node of another CA is ready: %d", code)
	}
	waitRing(t, 3, a)

	// Restarted on its volume (a new pod, a new address): the same host ID and marker.
	marker := b.marker
	b2 := newNode(t, ctx, "127.0.0.15", "demo", "dc1", "r1", "127.0.0.11", enc, b.data)
	if b2.marker != marker || b2.ring.self.HostID != b.ring.self.HostID {
		t.Errorf("restarted: marker %q host ID %s, want %q %s", b2.marker, b2.ring.self.HostID, marker, b.ring.self.HostID)
	}
	_, body = b2.call(t, "GET", "/api/v0/standin")
	if !strings.Contains(body, `"marker":"`+marker) {
		t.Errorf("standin report: %s", body)
	}
}

// Plain internode on 7000 when encryption is off; a peer of another cluster is refused.
func TestRingPlainRefusesOtherCluster(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a := newNode(t, ctx, "127.0.0.21", "demo", "dc1", "r1", "127.0.0.21", nil, "")
	b := newNode(t, ctx, "127.0.0.22", "other", "dc1", "r1", "127.0.0.21", nil, "")
	if a.internodePort() != StoragePort || a.serverTLS != nil {
		t.Fatalf("internode: port %d, TLS %v", a.internodePort(), a.serverTLS != nil)
	}
	a.call(t, "POST", "/api/v0/lifecycle/start")
	b.call(t, "POST", "/api/v0/lifecycle/start")
	waitRing(t, 1, a)
	time.Sleep(500 * time.Millisecond)
	waitRing(t, 1, a)
	if code, _ := b.call(t, "GET", "/api/v0/probes/readiness"); code != 500 {
		t.Errorf("a node of another cluster joined: readiness %d", code)
	}

	// Once bootstrapped, a node starts with no seed answering, as after a stopped datacenter.
	deadline := time.Now().Add(5 * time.Second)
	for !exists(filepath.Join(a.data, bootstrappedFile)) {
		if time.Now().After(deadline) {
			t.Fatal("the seed did not record its bootstrap")
		}
		time.Sleep(20 * time.Millisecond)
	}
	again := newNode(t, ctx, "127.0.0.23", "demo", "dc1", "r1", "127.0.0.99", nil, a.data)
	if code, _ := again.call(t, "GET", "/api/v0/probes/readiness"); code != 500 {
		t.Errorf("ready before start: %d", code)
	}
	again.call(t, "POST", "/api/v0/lifecycle/start")
	if code, body := again.call(t, "GET", "/api/v0/probes/readiness"); code != 200 {
		t.Errorf("a bootstrapped node with no seed answering: readiness %d %s", code, body)
	}
	fresh := newNode(t, ctx, "127.0.0.24", "demo", "dc1", "r1", "127.0.0.99", nil, "")
	fresh.call(t, "POST", "/api/v0/lifecycle/start")
	if code, _ := fresh.call(t, "GET", "/api/v0/probes/readiness"); code != 500 {
		t.Errorf("a new node with no seed answering is ready: %d", code)
	}
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// What k8ssandra-operator and cass-operator read and write besides the ring.
func TestManagementAPI(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n := newNode(t, ctx, "127.0.0.31", "demo", "dc1", "r1", "127.0.0.31", nil, "")
	checks := []struct {
		method, path string
		code         int
		body         string
	}{
		{"GET", "/api/v0/metadata/versions/features", 200, `"cassandra_version":"4.0.11"`},
		{"GET", "/api/v0/ops/keyspace?keyspaceName=system_auth", 200, `["system_auth"]`},
		{"GET", "/api/v0/ops/keyspace?keyspaceName=nothere", 200, `[]`},
		{"GET", "/api/v0/ops/keyspace/replication?keyspaceName=system_auth", 200, `"class":"org.apache.cassandra.locator.SimpleStrategy"`},
		{"POST", "/api/v0/ops/auth/role?username=demo-superuser&password=x&can_login=true&is_superuser=true", 200, "OK"},
		{"GET", "/api/v0/ops/auth/role", 200, `"name":"demo-superuser","super":true`},
		{"POST", "/api/v0/ops/auth/role?username=nopassword", 400, "required"},
		{"GET", "/api/v0/ops/executor/job?job_id=nope", 404, ""},
		{"POST", "/api/v0/ops/node/drain", 200, "OK"},
	}
	for _, c := range checks {
		code, body := n.call(t, c.method, c.path)
		if code != c.code || !strings.Contains(body, c.body) {
			t.Errorf("%s %s: %d %s, want %d with %s", c.method, c.path, code, body, c.code, c.body)
		}
	}
	req, _ := http.NewRequest("POST", n.api.URL+"/api/v0/ops/keyspace/alter",
		strings.NewReader(`{"keyspace_name":"system_auth","replication_settings":[{"dc_name":"dc1","replication_factor":"1"}]}`))
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("alter: %v %v", resp, err)
	}
	if _, body := n.call(t, "GET", "/api/v0/ops/keyspace/replication?keyspaceName=system_auth"); !strings.Contains(body, `"dc1":"1"`) || !strings.Contains(body, "NetworkTopologyStrategy") {
		t.Errorf("replication after alter: %s", body)
	}
	_, id := n.call(t, "POST", "/api/v1/ops/keyspace/cleanup")
	if strings.ContainsAny(id, "\"\n") {
		t.Errorf("job id %q is not bare", id)
	}
	if code, body := n.call(t, "GET", "/api/v0/ops/executor/job?job_id="+id); code != 200 || !strings.Contains(body, `"status":"COMPLETED"`) {
		t.Errorf("job: %d %s", code, body)
	}
}

func TestRenderRefusesBadInput(t *testing.T) {
	for _, data := range []string{"", "{", `{"cluster-info":{"name":"c"}}`} {
		if err := Render(t.TempDir(), data, "r1", "4.0.11"); err == nil {
			t.Errorf("Render(%q) succeeded", data)
		}
	}
}
