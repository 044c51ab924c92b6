//go:build e2e

package e2e

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/procfs"

	"github.com/datastax/mission-control/internal/contract"
	"github.com/datastax/mission-control/internal/testenv"
)

// plainDatacenter is the baseline: the datacenter singleNodeCluster becomes, written straight to
// cass-operator (no mission-control-operator, no k8ssandra-operator, so no internode TLS and no
// auth), with the same size, resources and storage.
const plainDatacenter = `apiVersion: cassandra.datastax.com/v1beta1
kind: CassandraDatacenter
metadata: {name: dc1, namespace: db}
spec:
  clusterName: demo
  serverType: cassandra
  serverVersion: 4.0.11
  size: 2
  racks: [{name: r1}]
  allowMultipleNodesPerWorker: true
  resources: {requests: {cpu: 100m, memory: 256Mi}, limits: {cpu: 500m, memory: 256Mi}}
  configBuilderResources: {requests: {cpu: 50m, memory: 64Mi}, limits: {cpu: 500m, memory: 128Mi}}
  config: {jvm-server-options: {initial_heap_size: 1073741824, max_heap_size: 1073741824}}
  storageConfig:
    cassandraDataVolumeClaimSpec:
      accessModes: [ReadWriteOnce]
      resources: {requests: {storage: 2Gi}}
      storageClassName: standard
`

// databaseRuns is how many times each manifest is applied.
const databaseRuns = 5

// BenchmarkDatabase measures, on one control plane of Cassandra stand-ins, the docs'
// MissionControlCluster (dc1, two nodes) from apply to its CassandraDatacenter Ready, against the
// same datacenter applied straight to cass-operator, alternating, databaseRuns times each (p50,
// p95); then the operators' resident memory with a datacenter running. Each run starts from an
// empty namespace: the previous datacenter, its pods and volumes deleted.
func BenchmarkDatabase(b *testing.B) {
	testenv.Require(b, testenv.E2E, testenv.Root)
	installWithStandins(b, "10.41.0.0/16")
	cluster := readFile(b, singleNodeCluster)
	b.ResetTimer()
	for range b.N {
		var ours, bare []time.Duration
		var rss map[string]uint64
		for i := range databaseRuns {
			ours = append(ours, timeToReady(b, cluster, "missioncontrolcluster/demo"))
			if i == databaseRuns-1 {
				rss = operatorsRSS(b)
			}
			deleteDatacenter(b, "missioncontrolcluster/demo")
			bare = append(bare, timeToReady(b, plainDatacenter, "cassandradatacenter/dc1"))
			deleteDatacenter(b, "cassandradatacenter/dc1")
		}
		p50, p95 := percentile(ours, 50), percentile(ours, 95)
		b50, b95 := percentile(bare, 50), percentile(bare, 95)
		b.ReportMetric(p50.Seconds(), "s-p50-mcc-ready")
		b.ReportMetric(p95.Seconds(), "s-p95-mcc-ready")
		b.ReportMetric(b50.Seconds(), "s-p50-cassdc-ready")
		b.ReportMetric(p50.Seconds()/b50.Seconds(), "ratio-p50-ready")
		fmt.Printf("\nMissionControlCluster apply -> dc1 Ready, %d runs: p50 %5.1fs, p95 %5.1fs (%s)\n", databaseRuns, p50.Seconds(), p95.Seconds(), seconds(ours))
		fmt.Printf("CassandraDatacenter alone -> Ready (baseline):  p50 %5.1fs, p95 %5.1fs (%s); %.2fx, %.2fx\n",
			b50.Seconds(), b95.Seconds(), seconds(bare), p50.Seconds()/b50.Seconds(), p95.Seconds()/b95.Seconds())
		var total uint64
		for _, d := range contract.Deployments(true) {
			fmt.Printf("  %-26s RSS %6.1f MiB\n", d, float64(rss[d])/(1<<20))
			total += rss[d]
		}
		b.ReportMetric(float64(total)/(1<<20), "MiB-operators-rss")
		fmt.Printf("  %-26s RSS %6.1f MiB, with dc1 running\n", "all", float64(total)/(1<<20))
	}
}

// timeToReady applies a manifest and times it until the CassandraDatacenter dc1 is Ready.
func timeToReady(b *testing.B, manifest, what string) time.Duration {
	b.Helper()
	start := time.Now()
	kubectl(b, manifest, "apply", "-f", "-")
	waitKubectlFor(b, 10*time.Minute, what+" to dc1 Ready", "True Ready",
		"-n", "db", "get", "cassandradatacenter", "dc1", "-o", `jsonpath={.status.conditions[?(@.type=="Ready")].status} {.status.cassandraOperatorProgress}`)
	return time.Since(start)
}

// deleteDatacenter deletes what applied dc1 and waits until its pods, claims and volumes are gone.
func deleteDatacenter(b *testing.B, what string) {
	b.Helper()
	kubectl(b, "", "-n", "db", "delete", what, "--wait=true", "--timeout=5m")
	waitKubectlFor(b, 5*time.Minute, what+" deleted", "", "-n", "db", "get", "cassandradatacenter,pods,pvc", "-o", "name")
	// The provisioner deletes each volume with a helper pod of its own, one after the other.
	waitKubectlFor(b, 5*time.Minute, what+"'s volumes deleted", "", "get", "pv", "-o", "name")
}

// percentile is the nearest-rank percentile p of ds (with 5 runs, p95 is the slowest).
func percentile(ds []time.Duration, p float64) time.Duration {
	sorted := slices.Sorted(slices.Values(ds))
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[max(rank, 1)-1]
}

func seconds(ds []time.Duration) string {
	var s []string
	for _, d := range ds {
		s = append(s, fmt.Sprintf("%.1f", d.Seconds()))
	}
	return strings.Join(s, " ")
}

// operatorsRSS sums, per operator Deployment, the resident memory of the processes in its pods'
// containers, found by the container IDs in their cgroup paths.
func operatorsRSS(b *testing.B) map[string]uint64 {
	b.Helper()
	containers := map[string]string{} // container ID -> Deployment
	for _, d := range contract.Deployments(true) {
		ids := kubectl(b, "", "-n", contract.Namespace, "get", "pods", "-l", "app.kubernetes.io/name="+d, "-o", "jsonpath={.items[*].status.containerStatuses[*].containerID}")
		for _, id := range strings.Fields(ids) {
			containers[strings.TrimPrefix(id, "containerd://")] = d
		}
	}
	procs, err := procfs.AllProcs()
	must(b, err)
	rss := map[string]uint64{}
	for _, p := range procs {
		cgroups, err := p.Cgroups()
		if err != nil {
			continue // gone meanwhile
		}
		for id, d := range containers {
			if !slices.ContainsFunc(cgroups, func(c procfs.Cgroup) bool { return strings.Contains(c.Path, id) }) {
				continue
			}
			if stat, err := p.Stat(); err == nil {
				rss[d] += uint64(stat.ResidentMemory())
			}
			break
		}
	}
	for _, d := range contract.Deployments(true) {
		if rss[d] == 0 {
			b.Fatalf("no process of %s found by its containers' cgroups", d)
		}
	}
	return rss
}
