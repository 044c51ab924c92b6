//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/datastax/mission-control/internal/datadir"
	"github.com/datastax/mission-control/internal/filelist"
	"github.com/datastax/mission-control/internal/host"
	"github.com/datastax/mission-control/internal/network"
	"github.com/datastax/mission-control/internal/testenv"
	"github.com/datastax/mission-control/runtime/k0s"
	"github.com/datastax/mission-control/runtime/payload"
)

// BenchmarkInstall measures, in one run on this machine: a bare k0s (the same binaries and
// configuration, started by hand) from start to a Ready node and to ready system pods; our
// install to a Ready node and to its end, when the platform's operators are Available; their
// ratios; a support bundle of that control plane against kubectl cluster-info dump; and reset.
// Run it with make bench (one iteration: it installs for real).
func BenchmarkInstall(b *testing.B) {
	testenv.Require(b, testenv.E2E, testenv.Root)
	binary(b)
	if exists(dataDir) {
		b.Fatalf("%s exists: reset it first", dataDir)
	}
	const cidr = "10.40.0.0/16"
	startNetGuard(b, cidr)
	b.ResetTimer()
	for range b.N {
		bareNode, bareSystem := bareK0s(b, cidr)

		start := time.Now()
		nodeReady := make(chan time.Duration, 1)
		ctx, cancel := context.WithCancel(context.Background())
		go func() { // watch the API while install runs, for the time to a Ready node
			w := k0s.Waiter{Layout: datadir.Layout{DataDir: dataDir}, Reader: host.System{}, Timeout: 10 * time.Minute, Poll: 100 * time.Millisecond}
			for ctx.Err() == nil {
				if _, err := w.WaitNode(ctx); err == nil {
					nodeReady <- time.Since(start)
					return
				}
				time.Sleep(100 * time.Millisecond)
			}
		}()
		r := mc(b, "install", "--license", license, "--cidr", cidr, "--yes")
		cancel()
		if r.code != 0 {
			b.Fatalf("install: %s", r)
		}
		oursNode, installTook := <-nodeReady, r.took
		bundle := benchSupportBundle(b)
		r = mc(b, "reset", "--yes")
		if r.code != 0 {
			b.Fatalf("reset: %s", r)
		}
		resetTook := r.took

		b.ReportMetric(bareNode.Seconds(), "s-bare-k0s-node-ready")
		b.ReportMetric(oursNode.Seconds(), "s-install-node-ready")
		b.ReportMetric(oursNode.Seconds()/bareNode.Seconds(), "ratio-node-ready")
		b.ReportMetric(bareSystem.Seconds(), "s-bare-k0s-system-ready")
		b.ReportMetric(installTook.Seconds(), "s-install-operators-available")
		b.ReportMetric(resetTook.Seconds(), "s-reset")
		fmt.Printf("\nbare k0s:  node Ready %6.1fs, kube-proxy+CoreDNS ready %6.1fs\n", bareNode.Seconds(), bareSystem.Seconds())
		fmt.Printf("install:   node Ready %6.1fs (%.2fx bare), operators Available %6.1fs (%.2fx bare system pods)\n",
			oursNode.Seconds(), oursNode.Seconds()/bareNode.Seconds(), installTook.Seconds(), installTook.Seconds()/bareSystem.Seconds())
		fmt.Printf("reset:     %6.1fs\n", resetTook.Seconds())
		b.ReportMetric(bundle.took.Seconds(), "s-support-bundle")
		b.ReportMetric(float64(bundle.size)/(1<<20), "MiB-support-bundle")
		b.ReportMetric(bundle.took.Seconds()/bundle.dumpTook.Seconds(), "ratio-support-bundle-time")
		fmt.Printf("support bundle: %6.1fs, %.1f MiB (kubectl cluster-info dump --all-namespaces: %.1fs, %.1f MiB gzipped; %.2fx the time, %.2fx the size)\n",
			bundle.took.Seconds(), float64(bundle.size)/(1<<20), bundle.dumpTook.Seconds(), float64(bundle.dumpSize)/(1<<20),
			bundle.took.Seconds()/bundle.dumpTook.Seconds(), float64(bundle.size)/float64(bundle.dumpSize))
	}
}

// bareK0s stages the payload built by make runtime into a scratch layout, writes the same k0s,
// containerd and CNI configuration install writes, starts k0s by hand and times it; then stops
// and cleans up like reset does.
func bareK0s(b *testing.B, cidr string) (nodeReady, systemReady time.Duration) {
	b.Helper()
	l := datadir.Layout{DataDir: "/var/lib/mission-control-bench"}
	if exists(l.DataDir) {
		b.Fatalf("%s exists", l.DataDir)
	}
	ctx := context.Background()
	h := host.System{}
	before, err := k0s.RecordHostState(ctx, h, l)
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		if err := k0s.Cleanup(ctx, h, l, before, true); err != nil {
			b.Errorf("clean up after bare k0s: %v", err)
		}
		_ = os.RemoveAll(l.DataDir)
	}()
	data, err := os.ReadFile("../runtime/payload/payload.tar.zst")
	if err != nil {
		b.Fatalf("%v (run make runtime)", err)
	}
	manifest, err := os.ReadFile("../runtime/payload/payload.json")
	if err != nil {
		b.Fatal(err)
	}
	p, err := payload.New(data, manifest)
	if err != nil {
		b.Fatal(err)
	}
	for _, d := range []string{l.K0sBinDir(), l.CNIBinDir(), l.ImagesDir(), l.EtcDir(), l.CNIConfDir(), "/etc/k0s/containerd.d"} {
		must(b, os.MkdirAll(d, 0o755))
	}
	must(b, p.Extract(func(f filelist.File, data []byte) error {
		dir := map[string]string{"bin": l.K0sBinDir(), "cni": l.CNIBinDir(), "images": l.ImagesDir()}[filepath.Dir(f.Path)]
		return os.WriteFile(filepath.Join(dir, filepath.Base(f.Path)), data, fs.FileMode(f.Mode))
	}))
	nft, legacy, err := k0s.FindXtables(h)
	must(b, err)
	must(b, os.Symlink(nft, filepath.Join(l.K0sBinDir(), "xtables-nft-multi")))
	must(b, os.Symlink(legacy, filepath.Join(l.K0sBinDir(), "xtables-legacy-multi")))
	plan, err := network.Split(cidr)
	must(b, err)
	node, err := network.SelectNode(network.Kernel{}, "")
	must(b, err)
	cfg, err := k0s.Config{PodCIDR: plan.PodCIDR, ServiceCIDR: plan.ServiceCIDR, NodeAddress: node.Address}.Render()
	must(b, err)
	must(b, os.WriteFile(l.ConfigFile(), cfg, 0o600))
	capable, err := k0s.HasCapSysResource(h)
	must(b, err)
	must(b, os.WriteFile(k0s.ContainerdDropInFile, k0s.ContainerdDropIn(l, !capable), 0o600))
	cni, err := k0s.CNIConfig(l)
	must(b, err)
	must(b, os.WriteFile(l.CNIConfigFile(), cni, 0o600))
	podNetwork, err := k0s.NetworkManifest(l, k0s.Network{KubeRouterImage: p.Manifest.Images["kube-router"], PeeringImage: p.Manifest.Images["pod-network-peering"],
		PodCIDR: plan.PodCIDR, ServiceCIDR: plan.ServiceCIDR})
	must(b, err)
	must(b, os.MkdirAll(filepath.Dir(l.NetworkManifest()), 0o755))
	must(b, os.WriteFile(l.NetworkManifest(), podNetwork, 0o600))

	c := k0s.NodeCommand(l, k0s.RoleController, false)
	proc := exec.Command(c.Name, c.Args...)
	log, err := os.Create(filepath.Join(l.DataDir, "k0s.log"))
	must(b, err)
	defer log.Close()
	proc.Stdout, proc.Stderr = log, log
	start := time.Now()
	must(b, proc.Start())
	w := k0s.Waiter{Layout: l, Reader: h, Timeout: 10 * time.Minute, Poll: 100 * time.Millisecond}
	must(b, w.WaitAPI(ctx))
	_, err = w.WaitNode(ctx)
	must(b, err)
	nodeReady = time.Since(start)
	must(b, w.WaitSystem(ctx))
	systemReady = time.Since(start)

	must(b, proc.Process.Signal(syscall.SIGTERM))
	_ = proc.Wait()
	if out, err := exec.Command(l.K0s(), "reset", "--data-dir", l.K0sDataDir(), "--config", l.ConfigFile()).CombinedOutput(); err != nil {
		b.Errorf("k0s reset: %v\n%s", err, out)
	}
	return nodeReady, systemReady
}

func must(b testing.TB, err error) {
	b.Helper()
	if err != nil {
		b.Fatal(err)
	}
}

type bundleFigures struct {
	took, dumpTook time.Duration
	size, dumpSize int64
}

// benchSupportBundle times a support bundle of the installed control plane, and as its baseline
// kubectl's own cluster dump of the same cluster (resources and every pod's logs), gzipped.
func benchSupportBundle(b *testing.B) bundleFigures {
	b.Helper()
	dir := b.TempDir()
	var f bundleFigures
	out := filepath.Join(dir, "bundle.tar.gz")
	r := mc(b, "support-bundle", "--out", out)
	if r.code != 0 {
		b.Fatalf("support-bundle: %s", r)
	}
	f.took = r.took
	dump := filepath.Join(dir, "dump")
	r = mc(b, "shell", "--", "kubectl", "cluster-info", "dump", "--all-namespaces", "--output-directory", dump)
	if r.code != 0 {
		b.Fatalf("kubectl cluster-info dump: %s", r)
	}
	f.dumpTook = r.took
	if out, err := exec.Command("tar", "-czf", dump+".tar.gz", "-C", dump, ".").CombinedOutput(); err != nil {
		b.Fatalf("tar the dump: %v\n%s", err, out)
	}
	for _, p := range []struct {
		path string
		size *int64
	}{{out, &f.size}, {dump + ".tar.gz", &f.dumpSize}} {
		info, err := os.Stat(p.path)
		if err != nil {
			b.Fatal(err)
		}
		*p.size = info.Size()
	}
	return f
}
