//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/datastax/mission-control/internal/network"
	"github.com/datastax/mission-control/internal/testenv"
)

// singleNodeCluster is the docs' MissionControlCluster, dc1 only, with what one node needs to
// hold two Cassandra pods; the database suite applies the same file.
const singleNodeCluster = "../vm-tests/suites/database.yaml"

// restartTask is a rolling restart of dc1, as an operator asks cass-operator for one.
const restartTask = `apiVersion: control.k8ssandra.io/v1alpha1
kind: CassandraTask
metadata: {name: restart-dc1, namespace: db}
spec:
  datacenter: {name: dc1, namespace: db}
  jobs: [{name: restart-dc1, command: restart}]
`

// TestDatabase runs a datacenter of Cassandra stand-ins on a control plane: the
// MissionControlCluster becomes a CassandraDatacenter that reaches Ready, its pods in a ring over
// mutual TLS on 7001 with their volumes bound, the superuser Secret made; a CassandraTask
// restarts it pod by pod; stopped keeps the volumes and starting again finds the same data;
// deleting the cluster cleans up. The control plane's UI shows the datacenter Ready.
func TestDatabase(t *testing.T) {
	testenv.Require(t, testenv.E2E, testenv.Root)
	const cidr = "10.50.0.0/16"
	installWithStandins(t, cidr)
	plan, _ := network.Split(cidr)

	kubectl(t, readFile(t, singleNodeCluster), "apply", "-f", "-")
	start := time.Now()
	waitKubectlFor(t, 10*time.Minute, "CassandraDatacenter dc1 Ready", "True Ready",
		"-n", "db", "get", "cassandradatacenter", "dc1", "-o", `jsonpath={.status.conditions[?(@.type=="Ready")].status} {.status.cassandraOperatorProgress}`)
	t.Logf("dc1 Ready %s after apply", time.Since(start).Round(time.Second))
	markers := checkRing(t, plan.PodCIDR)
	waitKubectl(t, "the PVCs Bound", "Bound Bound", "-n", "db", "get", "pvc", "-o", "jsonpath={.items[*].status.phase}")
	waitKubectl(t, "the superuser Secret", "demo-superuser", "-n", "db", "get", "secret", "demo-superuser", "-o", "jsonpath={.metadata.name}")
	waitKubectl(t, "the MissionControlCluster's status", "dc1 2 2", "-n", "db", "get", "missioncontrolcluster", "demo", "-o",
		"jsonpath={.status.datacenters[0].name} {.status.datacenters[0].size} {.status.datacenters[0].readyReplicas}")
	checkUI(t, "db", "demo", "dc1", 2)

	checkInternodePolicy(t, helloImage(t))

	// A rolling restart through a CassandraTask: every pod replaced, the same data, Ready.
	kubectl(t, restartTask, "apply", "-f", "-")
	waitKubectlFor(t, 10*time.Minute, "the restart task Complete", "True", "-n", "db", "get", "cassandratask", "restart-dc1", "-o",
		`jsonpath={.status.conditions[?(@.type=="Complete")].status}`)
	waitKubectlFor(t, 5*time.Minute, "dc1 Ready after the restart", "True Ready",
		"-n", "db", "get", "cassandradatacenter", "dc1", "-o", `jsonpath={.status.conditions[?(@.type=="Ready")].status} {.status.cassandraOperatorProgress}`)
	if again := checkRing(t, plan.PodCIDR); !slices.Equal(again, markers) {
		t.Errorf("data markers after the rolling restart: %v, want %v", again, markers)
	}

	// stopped: no pods, volumes kept; started again: Ready, the same data.
	kubectl(t, "", "-n", "db", "patch", "missioncontrolcluster", "demo", "--type", "json", "-p", `[{"op":"replace","path":"/spec/k8ssandra/cassandra/datacenters/0/stopped","value":true}]`)
	waitKubectlFor(t, 5*time.Minute, "dc1 stopped: no pods", "", "-n", "db", "get", "pods", "-l", "cassandra.datastax.com/datacenter=dc1", "-o", "name")
	waitKubectl(t, "the PVCs kept", "Bound Bound", "-n", "db", "get", "pvc", "-o", "jsonpath={.items[*].status.phase}")
	kubectl(t, "", "-n", "db", "patch", "missioncontrolcluster", "demo", "--type", "json", "-p", `[{"op":"replace","path":"/spec/k8ssandra/cassandra/datacenters/0/stopped","value":false}]`)
	waitKubectlFor(t, 10*time.Minute, "dc1 Ready again", "True Ready",
		"-n", "db", "get", "cassandradatacenter", "dc1", "-o", `jsonpath={.status.conditions[?(@.type=="Ready")].status} {.status.cassandraOperatorProgress}`)
	if again := checkRing(t, plan.PodCIDR); !slices.Equal(again, markers) {
		t.Errorf("data markers after a restart: %v, want the first start's %v", again, markers)
	}

	kubectl(t, "", "-n", "db", "delete", "missioncontrolcluster", "demo", "--wait=true", "--timeout=5m")
	waitKubectl(t, "the datacenter deleted", "", "-n", "db", "get", "k8ssandracluster,cassandradatacenter,pods", "-o", "name")
	if r := mc(t, "reset", "--yes"); r.code != 0 {
		t.Fatalf("reset: %s", r)
	}
}

// intruder is a plain pod in the database's namespace trying the internode ports and the
// management API of a stand-in.
const intruder = `apiVersion: v1
kind: Pod
metadata: {name: intruder, namespace: db}
spec:
  restartPolicy: Never
  containers:
  - name: dial
    image: localhost/mission-control-e2e/hello:1
    imagePullPolicy: Never
    args: [dial, "%[1]s:7000", "%[1]s:7001", "%[1]s:8080"]
`

// checkInternodePolicy proves the cluster's NetworkPolicy on real pods: the stand-ins reach each
// other on 7001 (their ring, checked before), a plain pod of the same namespace does not reach
// 7000 or 7001 but does reach the management API on 8080.
func checkInternodePolicy(t *testing.T, image string) {
	t.Helper()
	waitKubectl(t, "the internode NetworkPolicy", "demo-internode", "-n", "db", "get", "networkpolicy", "-o", "jsonpath={.items[*].metadata.name}")
	data, err := os.ReadFile(image)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dataDir, "k0s", "images", "hello.tar"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	ip := strings.Fields(kubectl(t, "", "-n", "db", "get", "pods", "-l", "cassandra.datastax.com/datacenter=dc1", "-o", "jsonpath={.items[*].status.podIP}"))[0]
	kubectl(t, fmt.Sprintf(intruder, ip), "apply", "-f", "-")
	waitKubectl(t, "the intruder pod done", "Succeeded", "-n", "db", "get", "pod", "intruder", "-o", "jsonpath={.status.phase}")
	logs := kubectl(t, "", "-n", "db", "logs", "intruder")
	for _, want := range []string{"closed " + ip + ":7000", "closed " + ip + ":7001", "open " + ip + ":8080"} {
		if !strings.Contains(logs, want) {
			t.Errorf("a plain pod dialling a stand-in: want %q in\n%s", want, logs)
		}
	}
	kubectl(t, "", "-n", "db", "delete", "pod", "intruder", "--wait=true")
}

// checkRing asks each stand-in of dc1 for its ring until both list both pods, by their addresses
// in the pod range, over TLS on 7001: gossip converges within seconds, after a restart too (a
// restarted node learns its peers' new addresses from the seed service). It returns their data
// markers, sorted.
func checkRing(t *testing.T, podCIDR netip.Prefix) []string {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		markers, problem := ringProblem(t, podCIDR)
		if problem == "" {
			return markers
		}
		if time.Now().After(deadline) {
			t.Errorf("the stand-ins' ring 2 minutes after Ready: %s", problem)
			return markers
		}
		time.Sleep(2 * time.Second)
	}
}

// ringProblem says what is wrong with dc1's ring now, if anything, and returns the markers.
func ringProblem(t *testing.T, podCIDR netip.Prefix) ([]string, string) {
	t.Helper()
	ips := strings.Fields(kubectl(t, "", "-n", "db", "get", "pods", "-l", "cassandra.datastax.com/datacenter=dc1", "-o", "jsonpath={.items[*].status.podIP}"))
	if len(ips) != 2 {
		return nil, fmt.Sprintf("dc1 pods' addresses: %v", ips)
	}
	var markers, problems []string
	for _, ip := range ips {
		if !inRangeAddr(t, ip, podCIDR) {
			problems = append(problems, fmt.Sprintf("pod address %s is not in the pod range %s", ip, podCIDR))
		}
		var report struct {
			Marker        string
			TLS           bool
			InternodePort int
			Ring          []struct{ IP, DC, Status string }
		}
		body := httpGet(t, "http://"+ip+":8080/api/v0/standin")
		if err := json.Unmarshal([]byte(body), &report); err != nil {
			return nil, fmt.Sprintf("the stand-in at %s: %v: %s", ip, err, body)
		}
		var ring []string
		for _, m := range report.Ring {
			ring = append(ring, m.IP)
		}
		slices.Sort(ring)
		want := slices.Sorted(slices.Values(ips))
		if !report.TLS || report.InternodePort != 7001 || !slices.Equal(ring, want) {
			problems = append(problems, fmt.Sprintf("the stand-in at %s: TLS %v on %d, ring %v, want %v over TLS on 7001", ip, report.TLS, report.InternodePort, ring, want))
		}
		markers = append(markers, report.Marker)
	}
	slices.Sort(markers)
	return markers, strings.Join(problems, "; ")
}

// installWithStandins installs a control plane named CP_EAST on cidr (this machine's traffic kept
// on it, the install reset when tb ends) with the Cassandra stand-ins' images handed to its
// runtime and a namespace db for the datacenter.
func installWithStandins(tb testing.TB, cidr string) {
	tb.Helper()
	binary(tb)
	if exists(dataDir) {
		tb.Fatalf("%s exists: this test installs there and will not touch an existing install; reset it first", dataDir)
	}
	images := standinImages(tb)
	startNetGuard(tb, cidr)
	tb.Cleanup(func() {
		if exists(dataDir) {
			tb.Logf("cleaning up: %s", mc(tb, "reset", "--yes"))
		}
	})
	if r := mc(tb, "install", "--license", license, "--cidr", cidr, "--context-name", "CP_EAST", "--yes"); r.code != 0 {
		tb.Fatalf("install: %s", r)
	}
	for _, tar := range images {
		data, err := os.ReadFile(tar)
		must(tb, err)
		// k0s imports image tarballs added to its images directory.
		must(tb, os.WriteFile(filepath.Join(dataDir, "k0s", "images", filepath.Base(tar)), data, 0o644))
	}
	kubectl(tb, "", "create", "namespace", "db")
}

// standinImages builds the stand-ins' image tarballs (hack/standin-images.sh, cached).
func standinImages(t testing.TB) []string {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.CommandContext(within(t, 10*time.Minute), "../hack/standin-images.sh", dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build the stand-ins' images: %v\n%s", err, out)
	}
	tars, err := filepath.Glob(filepath.Join(dir, "*.tar"))
	if err != nil || len(tars) != 3 {
		t.Fatalf("stand-in images: %v %v", tars, err)
	}
	return tars
}
