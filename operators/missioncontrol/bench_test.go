package missioncontrol

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// mccWith is a one-datacenter MissionControlCluster in ns placed in context.
func mccWith(name, ns, context string) string {
	return fmt.Sprintf(`
apiVersion: missioncontrol.datastax.com/v1beta1
kind: MissionControlCluster
metadata: {name: %s, namespace: %s}
spec:
  k8ssandra:
    cassandra:
      serverVersion: 4.0.11
      datacenters:
        - {metadata: {name: dc1}, k8sContext: %s, size: 3}
`, name, ns, context)
}

// visibleIn waits for the K8ssandraCluster ns/name in c and returns how long that took from start.
func visibleIn(b testing.TB, c client.Client, ns, name string, start time.Time) time.Duration {
	for {
		if _, err := getKC(c, ns, name); err == nil {
			return time.Since(start)
		}
		if time.Since(start) > time.Minute {
			b.Fatalf("K8ssandraCluster %s/%s not written within a minute", ns, name)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func percentile(ds []time.Duration, p float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

// BenchmarkApplyToDataPlane: a MissionControlCluster applied to the control plane, until its
// K8ssandraCluster is visible in the data plane; 100 applies. The baseline, in the same run, is
// the test writing the same K8ssandraCluster into the data plane itself and reading it back.
func BenchmarkApplyToDataPlane(b *testing.B) {
	p := startTwoPlanes(b, DefaultOptions())
	ctx := context.Background()
	const n = 100
	for i := range n {
		p.cover(b, "bench-"+strconv.Itoa(i))
	}
	p.register(b, "dp-west", "DP_WEST", p.dpConfig, "https://"+p.proxy.addr)
	for range b.N {
		var operator, direct []time.Duration
		for i := range n {
			ns := "bench-" + strconv.Itoa(i)
			start := time.Now()
			applyManifest(b, p.cp, mccWith("apply", ns, "DP_WEST"))
			operator = append(operator, visibleIn(b, p.dp, ns, "apply", start))

			kc := &unstructured.Unstructured{Object: map[string]any{"spec": map[string]any{"cassandra": map[string]any{
				"serverVersion": "4.0.11", "datacenters": []any{map[string]any{"metadata": map[string]any{"name": "dc1"}, "size": int64(3)}}}}}}
			kc.SetGroupVersionKind(k8ssandraClusterGVK)
			kc.SetNamespace(ns)
			kc.SetName("direct")
			start = time.Now()
			if err := p.dp.Create(ctx, kc); err != nil {
				b.Fatal(err)
			}
			direct = append(direct, visibleIn(b, p.dp, ns, "direct", start))
		}
		p50, p99, base := percentile(operator, 0.50), percentile(operator, 0.99), percentile(direct, 0.50)
		b.Logf("MCC apply -> K8ssandraCluster in the data plane over %d applies: p50 %s, p99 %s; direct write p50 %s (%.1fx)",
			n, p50.Round(time.Millisecond), p99.Round(time.Millisecond), base.Round(time.Millisecond), float64(p50)/float64(base))
		b.ReportMetric(float64(p50.Microseconds())/1000, "ms-p50")
		b.ReportMetric(float64(p99.Microseconds())/1000, "ms-p99")
		b.ReportMetric(float64(base.Microseconds())/1000, "ms-direct-p50")
		b.ReportMetric(float64(p50)/float64(base), "ratio-p50-vs-direct")
	}
}

// BenchmarkScale: 100 registered data planes (registrations of one real data plane API server
// under 100 contexts) and 5 MissionControlClusters on each. Reports the operator's memory (this
// process's resident set, against before the operator started) and the apply-to-visible latency
// of one more cluster while the 500 are being reconciled.
func BenchmarkScale(b *testing.B) {
	const planes, perPlane = 100, 5
	p := startTwoPlanes(b, DefaultOptions())
	for i := range planes {
		p.cover(b, fmt.Sprintf("scale-%d", i))
	}
	baseRSS := rss(b)
	for i := range planes {
		p.register(b, fmt.Sprintf("dp-%d", i), fmt.Sprintf("DP_%d", i), p.dpConfig, "https://"+p.proxy.addr)
	}
	for range b.N {
		start := time.Now()
		for i := range planes {
			for j := range perPlane {
				applyManifest(b, p.cp, mccWith(fmt.Sprintf("c%d", j), fmt.Sprintf("scale-%d", i), fmt.Sprintf("DP_%d", i)))
			}
		}
		for i := range planes {
			for j := range perPlane {
				visibleIn(b, p.dp, fmt.Sprintf("scale-%d", i), fmt.Sprintf("c%d", j), start)
			}
		}
		all := time.Since(start)
		var probes []time.Duration
		for k := range 20 {
			ns := fmt.Sprintf("scale-%d", k)
			t0 := time.Now()
			applyManifest(b, p.cp, mccWith("probe", ns, fmt.Sprintf("DP_%d", k)))
			probes = append(probes, visibleIn(b, p.dp, ns, "probe", t0))
		}
		used := rss(b)
		b.Logf("%d data planes x %d clusters: all K8ssandraClusters written in %s; then apply -> visible p50 %s, p99 %s; RSS %d MiB (%d MiB before the operator, +%d MiB)",
			planes, perPlane, all.Round(time.Millisecond), percentile(probes, 0.5).Round(time.Millisecond), percentile(probes, 0.99).Round(time.Millisecond),
			used>>20, baseRSS>>20, (used-baseRSS)>>20)
		b.ReportMetric(all.Seconds(), "s-all-500")
		b.ReportMetric(float64(percentile(probes, 0.5).Microseconds())/1000, "ms-p50-loaded")
		b.ReportMetric(float64(percentile(probes, 0.99).Microseconds())/1000, "ms-p99-loaded")
		b.ReportMetric(float64(used>>20), "MiB-rss")
		b.ReportMetric(float64((used-baseRSS)>>20), "MiB-rss-growth")
	}
}

// rss is this process's resident set size in bytes.
func rss(b testing.TB) int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	b.Fatal("no VmRSS in /proc/self/status")
	return 0
}
