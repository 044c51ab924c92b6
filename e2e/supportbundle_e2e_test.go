//go:build e2e

package e2e

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/datastax/mission-control/internal/testhost"
)

// checkPortPreflight takes port 7000 with a listener of this test process: preflight must fail
// naming the port and this process, and install must stop before changing the host. The
// listener stays open for the caller's install with --ignore-host-preflights.
func checkPortPreflight(t *testing.T, install []string, before testhost.Snapshot, cidr string) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:7000")
	if err != nil {
		t.Fatalf("take port 7000: %v", err)
	}
	self := fmt.Sprintf("(pid %d)", os.Getpid())
	r := mc(t, "preflight", "--cidr", cidr)
	if r.code != 1 || !strings.Contains(r.stdout, "port 7000") || !strings.Contains(r.stdout, "FAIL   in use by ") || !strings.Contains(r.stdout, self) ||
		!strings.Contains(r.stderr, "checks failed: port 7000") {
		t.Errorf("preflight with port 7000 taken by %s: %s", self, r)
	}
	r = mc(t, install...)
	if r.code != 1 || !strings.Contains(r.stderr, "port 7000: in use by") || !strings.Contains(r.stderr, self) || !strings.Contains(r.stderr, "--ignore-host-preflights") {
		t.Errorf("install with port 7000 taken: %s", r)
	}
	if diff := before.Diff(takeSnapshot(t)); len(diff) > 0 {
		t.Errorf("the install refused by preflights changed the host:\n%s", strings.Join(diff, "\n"))
	}
	return l
}

// Secrets planted in the cluster and its logs, where the bundle's collectors look; none may
// appear in a support bundle. troubleshoot reads Secrets only as image pull secrets (their
// registries and users): plantedSecret is one's password, its auth field plantedSecretAuth.
const (
	plantedSecret     = "e2e-pull-password-4d2c"
	plantedSecretAuth = "ZTJlLXB1bGxlcjplMmUtcHVsbC1wYXNzd29yZC00ZDJj" // base64 of e2e-puller:e2e-pull-password-4d2c
	plantedConfigMap  = "e2e-configmap-password-9b2e"
	plantedEnv        = "e2e-env-password-3f7a"
	plantedLog        = "e2e-log-password-a81c"
)

const plantedWorkload = `apiVersion: v1
kind: Secret
metadata: {name: planted, namespace: mission-control}
type: kubernetes.io/dockerconfigjson
stringData: {.dockerconfigjson: '{"auths":{"registry.example":{"auth":"` + plantedSecretAuth + `"}}}'}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: planted, namespace: mission-control}
data: {application.conf: "db.password=` + plantedConfigMap + `"}
---
apiVersion: v1
kind: Pod
metadata: {name: planted, namespace: mission-control, labels: {app.kubernetes.io/name: planted}}
spec:
  containers:
  - name: planted
    image: localhost/mission-control-e2e/hello:1
    imagePullPolicy: Never
    args: [log, "connecting to the database with password=` + plantedLog + `"]
    env: [{name: DB_PASSWORD, value: ` + plantedEnv + `}]
`

// checkSupportBundle collects a bundle of the running control plane: host and cluster files are
// there, and the planted secrets and the admin kubeconfig's key are nowhere in it.
func checkSupportBundle(t *testing.T) {
	t.Helper()
	kubectl(t, plantedWorkload, "apply", "-f", "-")
	kubectl(t, "", "-n", "mission-control", "wait", "--for=condition=Ready", "pod/planted", "--timeout=120s")
	dir := collectBundle(t)
	for _, want := range []string{"host-collectors/run-host/k0s-status.txt", "host-collectors/run-host/routes.txt", "host-collectors/run-host/nftables.txt",
		"host-collectors/runtime-logs/k0s.log", "host-collectors/install-records/journal.json", "host-collectors/install-records/preflight.json",
		"host-collectors/license/license.yaml", "host-collectors/install-state/install.yaml", "cluster-resources/pods/mission-control.json",
		"cluster-resources/events/mission-control.json", "cluster-info/cluster_version.json"} {
		if _, err := os.Stat(filepath.Join(dir, want)); err != nil {
			t.Errorf("bundle lacks %s", want)
		}
	}
	files := treeFiles(t, dir)
	// checkMissionControlCluster deleted its MissionControlCluster; what it made remains.
	crds := readFileOrEmpty(filepath.Join(dir, "cluster-resources/custom-resource-definitions.json"))
	for _, crd := range []string{"missioncontrolclusters.missioncontrol.datastax.com", "clientconfigs.config.k8ssandra.io"} {
		if !strings.Contains(crds, `"name": "`+crd+`"`) {
			t.Errorf("bundle's custom-resource-definitions.json lacks %s", crd)
		}
	}
	for _, want := range []string{"custom-resources/k8ssandraclusters.k8ssandra.io/demo", "custom-resources/cassandradatacenters.cassandra.datastax.com/demo",
		"pods/logs/mission-control/cass-operator-", "pods/logs/mission-control/planted/", "pods/logs/kube-system/coredns-"} {
		if !strings.Contains(files, want) {
			t.Errorf("bundle has no %s*:\n%s", want, files)
		}
	}
	// leaveVolume's claim, with its volume, node and path.
	if volumes := readFileOrEmpty(filepath.Join(dir, "storage/volumes.txt")); !regexp.MustCompile(`(?m)^default/data +Bound +pvc-\S+ +2Gi +standard +\S+ +` +
		regexp.QuoteMeta(filepath.Join(dataDir, "storage", "default_data_")) + `pvc-`).MatchString(volumes) {
		t.Errorf("the bundle's storage/volumes.txt does not list the claim default/data:\n%s", volumes)
	}
	if !strings.Contains(files, "host-collectors/volume-records/default_data_pvc-") {
		t.Errorf("the bundle lacks the volume's record:\n%s", files)
	}
	if _, err := os.Stat(filepath.Join(dir, "cluster-collection-error.txt")); err == nil {
		t.Errorf("cluster collection failed on a running cluster: %s", readFile(t, filepath.Join(dir, "cluster-collection-error.txt")))
	}
	kubeconfig := readFile(t, filepath.Join(dataDir, "kubeconfig"))
	_, key, _ := strings.Cut(kubeconfig, "client-key-data: ")
	key, _, _ = strings.Cut(key, "\n")
	if len(key) < 20 {
		t.Fatalf("no client key in the admin kubeconfig:\n%s", kubeconfig)
	}
	// The planted Secret and ConfigMap were collected: what a leak would come through.
	if pull := readFileOrEmpty(filepath.Join(dir, "cluster-resources/image-pull-secrets/mission-control/planted.json")); !strings.Contains(pull, "e2e-puller") {
		t.Errorf("the bundle did not collect the planted pull secret (its user): %q", pull)
	}
	if cms := readFileOrEmpty(filepath.Join(dir, "cluster-resources/configmaps/mission-control.json")); !strings.Contains(cms, "application.conf") {
		t.Error("the bundle did not collect the planted ConfigMap")
	}
	for _, secret := range []string{plantedSecret, plantedSecretAuth, plantedConfigMap, plantedEnv, plantedLog, key} {
		if out, _ := exec.Command("grep", "-rl", "--", secret, dir).Output(); len(out) > 0 {
			t.Errorf("the bundle holds the secret %.24s in:\n%s", secret, out)
		}
	}
	if !strings.Contains(readFile(t, filepath.Join(dir, "host-collectors/runtime-logs/k0s.log")), "level=") {
		t.Error("the runtime log in the bundle lost its content")
	}
}

// stopRuntime stops the runtime as reset does first: SIGTERM to the supervisor, which stops k0s.
func stopRuntime(t *testing.T) {
	t.Helper()
	pid, err := strconv.Atoi(strings.TrimSpace(readFile(t, filepath.Join(dataDir, "run", "supervisor.pid"))))
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		t.Fatalf("stop the supervisor %d: %v", pid, err)
	}
	for deadline := time.Now().Add(2 * time.Minute); syscall.Kill(pid, 0) == nil; time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the supervisor %d did not stop within 2 minutes", pid)
		}
	}
}

// checkSupportBundleWithoutCluster: with the runtime stopped, the bundle still completes with
// the host part and records why the cluster part is missing.
func checkSupportBundleWithoutCluster(t *testing.T) {
	t.Helper()
	dir := collectBundle(t)
	if _, err := os.Stat(filepath.Join(dir, "host-collectors/runtime-logs/k0s.log")); err != nil {
		t.Error("the bundle without a cluster lacks the runtime log")
	}
	if got := readFileOrEmpty(filepath.Join(dir, "cluster-collection-error.txt")); got == "" {
		t.Error("the bundle does not record why the cluster was not collected")
	} else {
		t.Logf("cluster collection error recorded: %s", strings.SplitN(got, "\n", 2)[0])
	}
}

// collectBundle runs support-bundle and extracts the archive; it returns the bundle's top directory.
func collectBundle(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "bundle.tar.gz")
	r := mc(t, "support-bundle", "--out", out)
	if r.code != 0 || !strings.Contains(r.stdout, "Support bundle written to "+out) {
		t.Fatalf("support-bundle: %s", r)
	}
	t.Logf("support-bundle took %s:\n%s", r.took.Round(100*time.Millisecond), r.stdout)
	dir := t.TempDir()
	if b, err := exec.Command("tar", "-xzf", out, "-C", dir).CombinedOutput(); err != nil {
		t.Fatalf("extract the bundle with tar: %v\n%s", err, b)
	}
	return filepath.Join(dir, "bundle")
}

// treeFiles lists the files below dir, a line each.
func treeFiles(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			b.WriteString(rel + "\n")
		}
		return nil
	})
	return b.String()
}
