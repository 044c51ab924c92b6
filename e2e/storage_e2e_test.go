//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// claim is the docs' volume shape: storageClassName standard, 2Gi, ReadWriteOnce.
const claim = `apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data, namespace: default}
spec:
  storageClassName: standard
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 2Gi}}
`

// keeper is a pod that mounts the claim and keeps a marker in it: it writes the marker when the
// volume is empty and prints what it found otherwise.
func keeper(name, marker string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: %s, namespace: default}
spec:
  terminationGracePeriodSeconds: 1
  securityContext: {runAsUser: 999, runAsGroup: 999} # as the database runs
  containers:
  - name: keeper
    image: localhost/mission-control-e2e/hello:1
    imagePullPolicy: Never
    args: [keep, /data/marker, %q]
    volumeMounts: [{name: data, mountPath: /data}]
  volumes:
  - name: data
    persistentVolumeClaim: {claimName: data}
`, name, marker)
}

// checkVolumes: a claim in the docs' shape binds to a volume made under the data dir on this
// node, named after its claim and recorded; a pod (not root) writes a marker, a second pod reads
// the same bytes after the first is gone; the volume stays while its claim does, cannot grow,
// and goes with its claim. The hello image must be imported (checkWorkload).
func checkVolumes(t *testing.T) {
	t.Helper()
	marker := fmt.Sprintf("written at %d", time.Now().UnixNano())
	kubectl(t, claim, "apply", "-f", "-")
	if phase := kubectl(t, "", "get", "pvc", "data", "-o", "jsonpath={.status.phase}"); strings.TrimSpace(phase) != "Pending" {
		t.Errorf("the claim is %s before a pod uses it; want Pending (WaitForFirstConsumer)", phase)
	}
	kubectl(t, keeper("writer", marker), "apply", "-f", "-")
	kubectl(t, "", "wait", "--for=condition=Ready", "pod/writer", "--timeout=180s")
	if logs := kubectl(t, "", "logs", "writer"); strings.TrimSpace(logs) != "wrote "+marker {
		t.Fatalf("writer: %q", logs)
	}
	pv := strings.TrimSpace(kubectl(t, "", "get", "pvc", "data", "-o", "jsonpath={.spec.volumeName}"))
	path := strings.TrimSpace(kubectl(t, "", "get", "pv", pv, "-o", "jsonpath={.spec.hostPath.path}{.spec.local.path}"))
	wantPath := filepath.Join(dataDir, "storage", "default_data_"+pv)
	if path != wantPath {
		t.Errorf("volume path %q, want %q", path, wantPath)
	}
	if data, err := os.ReadFile(filepath.Join(wantPath, "marker")); err != nil || string(data) != marker {
		t.Errorf("the marker on the host: %q %v", data, err)
	}
	var record struct{ PV, Namespace, Claim, Node string }
	if data, err := os.ReadFile(wantPath + ".volume.json"); err != nil || json.Unmarshal(data, &record) != nil ||
		record.PV != pv || record.Namespace != "default" || record.Claim != "data" || record.Node == "" {
		t.Errorf("the volume's record: %+v %v", record, err)
	}
	if st := status(t); st.Storage.Volumes != 1 || st.Storage.Bound != 1 || st.Storage.LocalVolumes != 1 {
		t.Errorf("status storage: %+v", st.Storage)
	}

	kubectl(t, "", "delete", "pod", "writer", "--wait=true", "--timeout=120s")
	if !exists(wantPath) {
		t.Fatal("the volume went with its pod while its claim remains")
	}
	kubectl(t, keeper("reader", "not this"), "apply", "-f", "-")
	kubectl(t, "", "wait", "--for=condition=Ready", "pod/reader", "--timeout=180s")
	if logs := kubectl(t, "", "logs", "reader"); strings.TrimSpace(logs) != "found "+marker {
		t.Errorf("reader: %q, want found %s", logs, marker)
	}
	if out, err := mcCommand(t, within(t, time.Minute), "shell", "--", "kubectl", "patch", "pvc", "data", "-p",
		`{"spec":{"resources":{"requests":{"storage":"3Gi"}}}}`).CombinedOutput(); err == nil ||
		!strings.Contains(string(out), "only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize") {
		t.Errorf("growing the claim: %v\n%s", err, out)
	}

	kubectl(t, "", "delete", "pod", "reader", "--wait=true", "--timeout=120s")
	kubectl(t, "", "delete", "pvc", "data", "--wait=true", "--timeout=120s")
	// The provisioner's helper removes the directory, then the provisioner the PV.
	deadline := time.Now().Add(2 * time.Minute)
	for exists(wantPath) || exists(wantPath+".volume.json") ||
		strings.TrimSpace(kubectl(t, "", "get", "pv", "-o", "jsonpath={.items[*].metadata.name}")) != "" {
		if time.Now().After(deadline) {
			t.Fatalf("2 minutes after its claim was deleted, %s exists: %v; volumes: %s", wantPath, exists(wantPath),
				kubectl(t, "", "get", "pv", "-o", "jsonpath={.items[*].metadata.name}"))
		}
		time.Sleep(time.Second)
	}
}

// leaveVolume makes a volume holding a marker and leaves it, claim and pod, for reset to remove.
func leaveVolume(t *testing.T) {
	t.Helper()
	kubectl(t, claim, "apply", "-f", "-")
	kubectl(t, keeper("writer", "left for reset"), "apply", "-f", "-")
	kubectl(t, "", "wait", "--for=condition=Ready", "pod/writer", "--timeout=180s")
	if phase := kubectl(t, "", "get", "pvc", "data", "-o", "jsonpath={.status.phase}"); strings.TrimSpace(phase) != "Bound" {
		t.Errorf("the claim is %s", phase)
	}
	// A data plane's CassandraDatacenter (checkCassandraDatacenter) has volumes too, all here.
	if st := status(t); st.Storage.LocalVolumes < 1 || st.Storage.LocalVolumes != st.Storage.Volumes || st.Storage.Bound != st.Storage.Volumes {
		t.Errorf("status storage: %+v", st.Storage)
	}
}
