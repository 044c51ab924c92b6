package hostpreflight_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/datastax/mission-control/installer/preflight"
	"github.com/datastax/mission-control/installer/preflight/hostpreflight"
	"github.com/datastax/mission-control/installer/preflight/preflighttest"
	"github.com/datastax/mission-control/internal/check"
	"github.com/datastax/mission-control/internal/network"
)

const gib = 1 << 30

func TestAnalyze(t *testing.T) {
	tests := []struct {
		name   string
		mode   string
		host   func(*preflighttest.Host)
		check  string
		status check.Status
		msg    string
	}{
		{"roomy", "control-plane", nil, "memory", check.Pass, "32.0 GiB; enough for control-plane mode"},
		{"cpu fail", "control-plane", func(h *preflighttest.Host) { h.CPUs = 1 }, "cpu", check.Fail, "1 CPUs; control-plane mode needs at least 2 CPUs"},
		{"cpu warn", "data-plane", func(h *preflighttest.Host) { h.CPUs = 2 }, "cpu", check.Warn, "2 CPUs; data-plane mode recommends 4 CPUs"},
		{"memory per mode", "data-plane", func(h *preflighttest.Host) { h.MemoryBytes = 6 * gib }, "memory", check.Fail, "6.0 GiB; data-plane mode needs at least 8 GiB"},
		{"an 8 GiB VM's memory", "data-plane", func(h *preflighttest.Host) { h.MemoryBytes = 7*gib + 700<<20 }, "memory", check.Warn, "7.7 GiB; data-plane mode recommends 16 GiB"},
		{"memory below what 8 GiB reports", "data-plane", func(h *preflighttest.Host) { h.MemoryBytes = 7*gib + 400<<20 }, "memory", check.Fail, "7.4 GiB; data-plane mode needs at least 8 GiB"},
		{"memory ok for control plane", "control-plane", func(h *preflighttest.Host) { h.MemoryBytes = 6 * gib }, "memory", check.Warn, "6.0 GiB; control-plane mode recommends 8 GiB"},
		{"tested distribution", "control-plane", func(h *preflighttest.Host) { h.Platform, h.Version = "debian", "12.11" }, "operating system", check.Pass, "Debian 12"},
		{"rocky", "control-plane", func(h *preflighttest.Host) { h.Platform, h.Version = "rocky", "9.5" }, "operating system", check.Pass, "Rocky Linux 9"},
		{"untested distribution", "control-plane", func(h *preflighttest.Host) { h.Platform, h.Version = "ubuntu", "20.04" }, "operating system", check.Warn, "not a tested distribution"},
		{"no overlayfs", "control-plane", func(h *preflighttest.Host) { h.KernelConfigs["CONFIG_OVERLAY_FS"] = "n" }, "kernel overlayfs", check.Fail, "the kernel lacks CONFIG_OVERLAY_FS=ym"},
		{"no bridge netfilter", "control-plane", func(h *preflighttest.Host) { delete(h.KernelConfigs, "CONFIG_BRIDGE_NETFILTER") }, "kernel bridge netfilter", check.Fail, "lacks CONFIG_BRIDGE_NETFILTER=ym"},
		{"nat", "control-plane", nil, "kernel nat", check.Pass, "connection tracking, NAT and nftables"},
		{"cgroups v2", "control-plane", nil, "cgroups", check.Pass, "cgroup v2 with cpu, cpuset, memory, pids"},
		{"cgroups lacking pids", "control-plane", func(h *preflighttest.Host) { h.CgroupControllers = []string{"cpu", "cpuset", "memory"} }, "cgroups", check.Fail, "cgroup v2 lacks the pids controllers"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := preflighttest.Roomy()
			if tt.host != nil {
				tt.host(&h)
			}
			got := find(analyze(t, tt.mode, h.Collected(), nil), tt.check)
			if got.Status != tt.status || !strings.Contains(got.Message, tt.msg) {
				t.Fatalf("%s = %+v, want %s containing %q", tt.check, got, tt.status, tt.msg)
			}
			if (got.Status == check.Pass) != (got.Remedy == "") {
				t.Errorf("%s: status %s with remedy %q", tt.check, got.Status, got.Remedy)
			}
		})
	}
}

// TestCollectorFailure: an analyzer whose collector failed says so, with the collector's error.
func TestCollectorFailure(t *testing.T) {
	files := preflighttest.Roomy().Collected()
	delete(files, "host-collectors/system/kernel-configs.json")
	got := find(analyze(t, "control-plane", files, []error{errors.New("failed to run collector: kernelConfigs: no /proc/config.gz")}), "kernel nat")
	if got.Status != check.Fail || got.Message != "could not be checked: failed to run collector: kernelConfigs: no /proc/config.gz" || got.Remedy == "" {
		t.Errorf("kernel nat = %+v", got)
	}
}

func analyze(t *testing.T, mode string, files map[string][]byte, errs []error) []check.Result {
	t.Helper()
	spec, err := hostpreflight.Spec(context.Background(), mode)
	if err != nil {
		t.Fatal(err)
	}
	return hostpreflight.Analyze(context.Background(), spec, files, errs)
}

func find(results []check.Result, name string) check.Result {
	for _, r := range results {
		if r.Check == name {
			return r
		}
	}
	return check.Result{}
}

// TestGather runs troubleshoot's collectors on this machine: every analyzer must find its files.
func TestGather(t *testing.T) {
	f, err := hostpreflight.Gather(context.Background(), preflight.Input{Mode: "control-plane", DataDir: t.TempDir()}, network.Kernel{})
	if err != nil {
		t.Fatal(err)
	}
	var checks []string
	for _, r := range f.Analyzed {
		checks = append(checks, r.Check)
		if strings.HasPrefix(r.Message, "could not be checked") {
			t.Errorf("%s: %s", r.Check, r.Message)
		}
	}
	if want := "cpu, memory, operating system, kernel overlayfs, kernel bridge netfilter, kernel nat, cgroups"; strings.Join(checks, ", ") != want {
		t.Errorf("checks %s, want %s", strings.Join(checks, ", "), want)
	}
	if f.Hostname == "" || f.DiskTotalBytes == 0 {
		t.Errorf("own facts missing: %+v", f)
	}
}
