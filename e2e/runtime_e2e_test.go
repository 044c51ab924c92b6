//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/datastax/mission-control/internal/network"
	"github.com/datastax/mission-control/internal/testenv"
)

// TestRuntime installs a control plane for real on one range, checks the cluster and its
// operators, refuses a second install, resets and checks that no trace is left; then does it all
// again as a data plane on another range, this time killing the first install mid-way and
// letting a re-run finish it, and has cass-operator act on a CassandraDatacenter. Both modes
// provision volumes: the control plane's are checked in use, the data plane's left for reset.
func TestRuntime(t *testing.T) {
	testenv.Require(t, testenv.E2E, testenv.Root)
	binary(t)
	if exists(dataDir) {
		t.Fatalf("%s exists: this test installs there and will not touch an existing install; reset it first", dataDir)
	}
	image := helloImage(t)
	for _, tc := range []struct {
		cidr, mode string
		// interrupt: kill the install once the journal records this step in this state.
		interrupt [2]string
	}{
		{"10.20.0.0/16", "control-plane", [2]string{"start-runtime", "succeeded"}},
		{"10.30.0.0/16", "data-plane", [2]string{"install-release", "started"}},
	} {
		t.Run(tc.mode+"/"+tc.cidr, func(t *testing.T) {
			plan, err := network.Split(tc.cidr)
			if err != nil {
				t.Fatal(err)
			}
			startNetGuard(t, tc.cidr)
			before := takeSnapshot(t)
			t.Cleanup(func() { // leave the machine clean even when an assertion failed
				if exists(dataDir) {
					t.Logf("cleaning up: %s", mc(t, "reset", "--yes"))
				}
			})

			install := []string{"install", "--license", license, "--cidr", tc.cidr, "--mode", tc.mode, "--yes"}
			if tc.mode == "control-plane" {
				install = append(install, "--context-name", "CP_EAST") // the docs manifest's dc2 names it
			}
			var portTaken net.Listener
			if tc.mode == "control-plane" {
				portTaken = checkPortPreflight(t, install, before, tc.cidr)
				install = append(install, "--ignore-host-preflights")
			}
			killMidway(t, install, tc.interrupt[0], tc.interrupt[1])
			r := mc(t, install...)
			if r.code != 0 {
				t.Fatalf("install: %s\nruntime log:\n%s", r, tail(filepath.Join(dataDir, "log", "k0s.log"), 40))
			}
			if portTaken != nil {
				// The first run got past host-preflights with port 7000 taken (--ignore-host-preflights);
				// a resumed run counts the platform's ports as its runtime's.
				portTaken.Close()
			}
			t.Logf("install took %s", r.took.Round(100*time.Millisecond))

			st := status(t)
			if len(st.Runtime.Nodes) != 1 || !st.Runtime.Healthy || !st.Complete || !st.Healthy {
				t.Fatalf("status after install: %+v", st)
			}
			checkOperators(t, tc.mode, st)
			if node := st.Runtime.Nodes[0]; !inRange(t, node.PodCIDR, plan.PodCIDR) {
				t.Errorf("node pod range %s is not in %s", node.PodCIDR, plan.PodCIDR)
			}

			installed, journal := takeSnapshot(t), readFile(t, filepath.Join(dataDir, "journal.json"))
			if r := mc(t, install...); r.code != 1 || !strings.Contains(r.stderr, "is already installed in "+dataDir) || !strings.Contains(r.stderr, "mission-control reset") {
				t.Errorf("second install: %s", r)
			}
			if diff := installed.WithoutRuntimeState(dataDir).Diff(takeSnapshot(t).WithoutRuntimeState(dataDir)); len(diff) > 0 || readFile(t, filepath.Join(dataDir, "journal.json")) != journal {
				t.Errorf("the refused second install changed the host:\n%s", strings.Join(diff, "\n"))
			}

			checkWorkload(t, image, plan.PodCIDR, plan.ServiceCIDR)
			if tc.mode == "data-plane" {
				checkCassandraDatacenter(t)
				leaveVolume(t) // reset removes it with the rest
			} else {
				checkVolumes(t)
				leaveVolume(t) // the support bundle lists it; reset removes it with the rest
				checkMissionControlCluster(t)
				checkSupportBundle(t)
				deleteMissionControlCluster(t)
				stopRuntime(t)
				checkSupportBundleWithoutCluster(t)
			}

			r = mc(t, "reset", "--yes")
			if r.code != 0 {
				t.Fatalf("reset: %s", r)
			}
			t.Logf("reset took %s", r.took.Round(100*time.Millisecond))
			if diff := before.Diff(takeSnapshot(t)); len(diff) > 0 {
				t.Errorf("reset left the host different from before install:\n%s", strings.Join(diff, "\n"))
			}
		})
	}
}

// killMidway starts an install, kills it as soon as the journal records the step in the state
// (e.g. the runtime service started, or the Helm release being installed), and checks that status
// reports the install unfinished.
func killMidway(t *testing.T, install []string, step, state string) {
	t.Helper()
	cmd := startMC(t, install...)
	deadline := time.Now().Add(5 * time.Minute)
	for !strings.Contains(readFileOrEmpty(filepath.Join(dataDir, "journal.json")), `"step": "`+step+`",
    "state": "`+state+`"`) {
		if time.Now().After(deadline) {
			kill(t, cmd)
			t.Fatalf("the install did not reach %s %s within 5 minutes", step, state)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("killed the install at %s %s", step, state)
	kill(t, cmd)
	if r := mc(t, "status"); r.code != 3 || !strings.Contains(r.stdout, "INCOMPLETE") {
		t.Errorf("status of the interrupted install: %s", r)
	}
}

type statusReport struct {
	Complete   bool `json:"complete"`
	Healthy    bool `json:"healthy"`
	Components []struct {
		Name      string `json:"name"`
		Available bool   `json:"available"`
	} `json:"components"`
	Storage struct {
		Volumes      int `json:"volumes"`
		Bound        int `json:"bound"`
		LocalVolumes int `json:"localVolumes"`
	} `json:"storage"`
	Runtime struct {
		Healthy bool `json:"healthy"`
		Nodes   []struct {
			Name    string `json:"name"`
			PodCIDR string `json:"podCIDR"`
		} `json:"nodes"`
	} `json:"runtime"`
}

func status(t *testing.T) statusReport {
	t.Helper()
	r := mc(t, "status", "-o", "json")
	var st statusReport
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil || r.code != 0 {
		t.Fatalf("status -o json: %v\n%s", err, r)
	}
	return st
}

func inRange(t *testing.T, sub string, r netip.Prefix) bool {
	p, err := netip.ParsePrefix(sub)
	if err != nil {
		t.Errorf("%q: %v", sub, err)
		return false
	}
	return r.Contains(p.Addr()) && p.Bits() >= r.Bits()
}

func inRangeAddr(t *testing.T, addr string, r netip.Prefix) bool {
	a, err := netip.ParseAddr(strings.TrimSpace(addr))
	if err != nil {
		t.Errorf("%q: %v", addr, err)
		return false
	}
	return r.Contains(a)
}

// helloImage builds the test workload's image tarball (not part of the product's payload).
func helloImage(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	bin, tar := filepath.Join(dir, "hello"), filepath.Join(dir, "hello.tar")
	build := exec.Command("go", "build", "-trimpath", "-o", bin, "./hello")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build hello: %v\n%s", err, out)
	}
	pack := exec.Command("go", "run", "../hack/imagebuild", "-name", "localhost/mission-control-e2e/hello:1", "-out", tar, "-entrypoint", "/hello", "/hello="+bin)
	if out, err := pack.CombinedOutput(); err != nil {
		t.Fatalf("pack hello: %v\n%s", err, out)
	}
	return tar
}

const workload = `apiVersion: v1
kind: Pod
metadata: {name: hello, labels: {app: hello}}
spec:
  containers:
  - name: hello
    image: localhost/mission-control-e2e/hello:1
    imagePullPolicy: Never
    env: [{name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}]
    readinessProbe: {httpGet: {path: /, port: 8080}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: hello}
spec:
  selector: {app: hello}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Pod
metadata: {name: probe}
spec:
  restartPolicy: Never
  containers:
  - name: probe
    image: localhost/mission-control-e2e/hello:1
    imagePullPolicy: Never
    args: [probe, "https://kubernetes.default.svc.cluster.local/version"]
`

// checkWorkload runs a pod from a locally built image and checks its address, the kubernetes
// Service's address, a ClusterIP from the host (kube-proxy), and DNS plus the kubernetes
// Service from inside a pod (CoreDNS).
func checkWorkload(t *testing.T, image string, pods, services netip.Prefix) {
	t.Helper()
	data, err := os.ReadFile(image)
	if err != nil {
		t.Fatal(err)
	}
	// k0s imports image tarballs added to its images directory.
	if err := os.WriteFile(filepath.Join(dataDir, "k0s", "images", "hello.tar"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	kubectl(t, workload, "apply", "-f", "-")
	kubectl(t, "", "wait", "--for=condition=Ready", "pod/hello", "--timeout=180s")
	podIP := kubectl(t, "", "get", "pod", "hello", "-o", "jsonpath={.status.podIP}")
	if !inRangeAddr(t, podIP, pods) {
		t.Errorf("pod IP %s is not in the pod range %s", podIP, pods)
	}
	apiIP := kubectl(t, "", "get", "service", "kubernetes", "-o", "jsonpath={.spec.clusterIP}")
	if !inRangeAddr(t, apiIP, services) {
		t.Errorf("the kubernetes Service's ClusterIP %s is not in the service range %s", apiIP, services)
	}
	helloIP := kubectl(t, "", "get", "service", "hello", "-o", "jsonpath={.spec.clusterIP}")
	if body := httpGet(t, "http://"+strings.TrimSpace(helloIP)+"/"); body != "hello from hello\n" {
		t.Errorf("GET the hello Service from the host: %q", body)
	}
	if out, err := mcCommand(t, within(t, 4*time.Minute), "shell", "--", "kubectl", "wait", "--for=jsonpath={.status.phase}=Succeeded", "pod/probe", "--timeout=180s").CombinedOutput(); err != nil {
		t.Errorf("the probe pod did not succeed: %v\n%s\nits log:\n%s", err, out, kubectl(t, "", "logs", "probe"))
	} else if logs := kubectl(t, "", "logs", "probe"); !strings.Contains(logs, "kubernetes.default.svc.cluster.local resolved to ["+strings.TrimSpace(apiIP)+"], answered") {
		t.Errorf("probe from a pod: %s", logs)
	}
}

// kubectl runs kubectl through mission-control shell, as a user would.
func kubectl(t testing.TB, stdin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := mcCommand(t, ctx, append([]string{"shell", "--", "kubectl"}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		events, _ := mcCommand(t, within(t, time.Minute), "shell", "--", "kubectl", "get", "events", "-A").CombinedOutput()
		t.Fatalf("kubectl %v: %v\n%s\nevents:\n%s", args, err, out, events)
	}
	return string(out)
}

func httpGet(t *testing.T, url string) string {
	t.Helper()
	client := http.Client{Timeout: 5 * time.Second}
	var lastErr error
	for range 30 { // kube-proxy may take a moment to program a new Service
		resp, err := client.Get(url)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			return string(body)
		}
		lastErr = err
		time.Sleep(time.Second)
	}
	t.Errorf("GET %s: %v", url, lastErr)
	return ""
}

func readFileOrEmpty(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

func tail(path string, n int) string {
	lines := strings.Split(readFileOrEmpty(path), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return fmt.Sprint(strings.Join(lines, "\n"))
}

// checkOperators: the mode's operators are Available, its CRDs Established, k8ssandra-operator
// knows whether it is the control plane, and database pods' internode ports are restricted.
func checkOperators(t *testing.T, mode string, st statusReport) {
	t.Helper()
	want := map[string]bool{"cass-operator": true, "k8ssandra-operator": true, "mission-control-operator": mode == "control-plane", "local-path-provisioner": true,
		"mission-control-api": mode == "control-plane"}
	for name, expected := range want {
		found := false
		for _, c := range st.Components {
			if c.Name == name {
				found = true
				if !c.Available {
					t.Errorf("%s is not Available", name)
				}
			}
		}
		if found != expected {
			t.Errorf("%s runs: %v, want %v (components %+v)", name, found, expected, st.Components)
		}
	}
	crds := kubectl(t, "", "get", "crd", "-o", "jsonpath={range .items[*]}{.metadata.name} {.status.conditions[?(@.type==\"Established\")].status}{\"\\n\"}{end}")
	for _, name := range []string{"missioncontrolclusters.missioncontrol.datastax.com", "k8ssandraclusters.k8ssandra.io",
		"clientconfigs.config.k8ssandra.io", "cassandradatacenters.cassandra.datastax.com"} {
		if !strings.Contains(crds, name+" True") {
			t.Errorf("CRD %s is not Established:\n%s", name, crds)
		}
	}
	classes := kubectl(t, "", "get", "storageclass", "-o", `jsonpath={range .items[*]}{.metadata.name} {.metadata.annotations.storageclass\.kubernetes\.io/is-default-class}{"\n"}{end}`)
	if strings.TrimSpace(classes) != "mission-control-local true\nstandard false" {
		t.Errorf("StorageClasses (name, default):\n%s", classes)
	}
	controlPlane := kubectl(t, "", "-n", "mission-control", "get", "deployment", "k8ssandra-operator", "-o",
		`jsonpath={.spec.template.spec.containers[0].env[?(@.name=="K8SSANDRA_CONTROL_PLANE")].value}`)
	if controlPlane != "true" { // it reconciles the K8ssandraCluster written into every cluster
		t.Errorf("K8SSANDRA_CONTROL_PLANE = %q, want true", controlPlane)
	}
	// Each Cassandra cluster's internode NetworkPolicy is the operator's (TestDatabase proves it
	// on running pods); the chart installs none.
	if policies := kubectl(t, "", "get", "networkpolicy", "-A", "-o", "name"); policies != "" {
		t.Errorf("NetworkPolicies with no database: %s", policies)
	}
}

const datacenter = `apiVersion: v1
kind: Namespace
metadata: {name: db}
---
apiVersion: cassandra.datastax.com/v1beta1
kind: CassandraDatacenter
metadata: {name: dc1, namespace: db}
spec:
  clusterName: cl1
  serverType: cassandra
  serverVersion: "4.1.5"
  size: 3
  storageConfig:
    cassandraDataVolumeClaimSpec:
      storageClassName: standard
      accessModes: [ReadWriteOnce]
      resources: {requests: {storage: 1Gi}}
`

// checkMissionControlCluster: the mission-control-operator, in its pod, turns the docs' manifest
// into a K8ssandraCluster here (both its datacenters are local: dc2 names this control plane's
// context), with the internode stores; k8ssandra-operator then makes the first
// CassandraDatacenter of it.
func checkMissionControlCluster(t *testing.T) {
	t.Helper()
	if ctx := strings.TrimSpace(kubectl(t, "", "config", "current-context")); ctx != "CP_EAST" {
		t.Errorf("the kubeconfig's context is %q, want the --context-name CP_EAST", ctx)
	}
	// mcctl (built beside mission-control) reads the installed control plane: no data planes yet.
	mcctl := filepath.Join(filepath.Dir(binary(t)), "mcctl")
	out, err := exec.CommandContext(within(t, time.Minute), mcctl, "dataplanes", "--dest-kubeconfig", filepath.Join(dataDir, "kubeconfig"), "--dest-context", "CP_EAST").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "NAME  CONTEXT  SERVER  NAMESPACES  TOKEN EXPIRES  REACHABLE" {
		t.Errorf("mcctl dataplanes: %v\n%s", err, out)
	}
	kubectl(t, "", "create", "namespace", "demo")
	kubectl(t, readFile(t, "../examples/missioncontrolcluster.yaml"), "apply", "-f", "-")
	waitKubectl(t, "a K8ssandraCluster with dc1 and dc2", "dc1 dc2",
		"-n", "demo", "get", "k8ssandracluster", "demo", "-o", "jsonpath={.spec.cassandra.datacenters[*].metadata.name}")
	waitKubectl(t, "DataPlanesReachable and CertificatesReady", "True True", "-n", "demo", "get", "missioncontrolcluster", "demo", "-o",
		`jsonpath={.status.conditions[?(@.type=="DataPlanesReachable")].status} {.status.conditions[?(@.type=="CertificatesReady")].status}`)
	waitKubectl(t, "the internode stores", "demo-keystore demo-truststore",
		"-n", "demo", "get", "secret", "demo-keystore", "demo-truststore", "-o", "jsonpath={.items[*].metadata.name}")
	waitKubectl(t, "k8ssandra-operator's CassandraDatacenter dc1", "dc1",
		"-n", "demo", "get", "cassandradatacenter", "dc1", "-o", "jsonpath={.metadata.name}")
}

// deleteMissionControlCluster deletes checkMissionControlCluster's cluster: the K8ssandraCluster
// goes with its datacenter (k8ssandra-operator's and cass-operator's finalizers run to the end,
// the superuser Secret still there), then the operator's Secrets.
func deleteMissionControlCluster(t *testing.T) {
	t.Helper()
	kubectl(t, "", "-n", "demo", "delete", "missioncontrolcluster", "demo", "--wait=true", "--timeout=2m")
	waitKubectl(t, "the K8ssandraCluster and its CassandraDatacenter deleted", "",
		"-n", "demo", "get", "k8ssandracluster,cassandradatacenter", "-o", "name")
	waitKubectl(t, "the operator's Secrets deleted", "", "-n", "demo", "get", "secret", "-l", "missioncontrol.datastax.com/cluster=demo", "-o", "name")
}

// waitKubectl waits up to three minutes for a kubectl command to print want, and fails with the
// operators' logs.
func waitKubectl(t testing.TB, what, want string, args ...string) {
	t.Helper()
	waitKubectlFor(t, 3*time.Minute, what, want, args...)
}

// waitKubectlFor is waitKubectl with its own bound.
func waitKubectlFor(t testing.TB, bound time.Duration, what, want string, args ...string) {
	t.Helper()
	deadline := time.Now().Add(bound)
	for {
		out, _ := mcCommand(t, within(t, time.Minute), append([]string{"shell", "--", "kubectl"}, args...)...).Output()
		if strings.TrimSpace(string(out)) == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: kubectl %v printed %q, want %q\n%s", what, args, out, want, operatorLogs(t))
		}
		time.Sleep(time.Second)
	}
}

// operatorLogs are the last lines of each operator's log, for a failure message; an operator
// this mode does not run says so instead.
func operatorLogs(t testing.TB) string {
	var b strings.Builder
	for _, d := range []string{"mission-control-operator", "k8ssandra-operator", "cass-operator"} {
		out, _ := mcCommand(t, within(t, time.Minute), "shell", "--", "kubectl", "-n", "mission-control", "logs", "deployment/"+d, "--tail=30").CombinedOutput()
		fmt.Fprintf(&b, "%s log:\n%s\n", d, out)
	}
	return b.String()
}

// checkCassandraDatacenter: cass-operator creates the StatefulSet a CassandraDatacenter asks for,
// and its webhook refuses an invalid one. The Cassandra image cannot be obtained here (no
// registry), so the test asserts on the objects the operator creates, not on running Cassandra.
func checkCassandraDatacenter(t *testing.T) {
	t.Helper()
	kubectl(t, datacenter, "apply", "-f", "-")
	waitKubectl(t, "cass-operator's StatefulSet of 3 replicas for the CassandraDatacenter", "3",
		"-n", "db", "get", "statefulset", "cl1-dc1-default-sts", "-o", "jsonpath={.spec.replicas}")
	invalid := strings.Replace(datacenter, "name: dc1", "name: dc2", 1) + "  dseWorkloads: {analyticsEnabled: true}\n"
	cmd := mcCommand(t, within(t, 2*time.Minute), "shell", "--", "kubectl", "apply", "-f", "-")
	cmd.Stdin = strings.NewReader(invalid)
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), `admission webhook "vcassandradatacenter.kb.io" denied the request`) {
		t.Errorf("an invalid CassandraDatacenter was not refused by the webhook: %v\n%s", err, out)
	}
}
