package preflight_test

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/datastax/mission-control/installer/preflight"
	"github.com/datastax/mission-control/installer/preflight/preflighttest"
	"github.com/datastax/mission-control/internal/check"
	"github.com/datastax/mission-control/internal/network"
)

const gib = 1 << 30

func plan(t *testing.T) network.Plan {
	p, err := network.Split("10.244.0.0/16")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func find(r check.Report, name string) check.Result {
	for _, res := range r.Results {
		if res.Check == name {
			return res
		}
	}
	return check.Result{}
}

func TestEvaluate(t *testing.T) {
	tests := []struct {
		name   string
		mode   string
		in     func(*preflight.Input)
		facts  func(*preflight.Facts)
		check  string
		status check.Status
		msg    string
	}{
		{"troubleshoot's verdicts come first", "control-plane", nil, nil, "memory", check.Pass, "32.0 GiB; enough for control-plane mode"},
		{"disk", "control-plane", nil, func(f *preflight.Facts) { f.DiskFreeBytes = 5 * gib }, "disk", check.Fail, "5.0 GiB free at /var/lib; the data dir /var/lib/mc needs at least 10.0 GiB free at /var/lib"},
		{"disk with a bundle", "control-plane", func(in *preflight.Input) { in.BundleImageBytes = 8 * gib }, func(f *preflight.Facts) { f.DiskFreeBytes = 20 * gib }, "disk", check.Fail,
			"the data dir /var/lib/mc with the air-gap bundle's images twice needs at least 26.0 GiB"},
		{"disk with room for volumes", "data-plane", func(in *preflight.Input) { in.VolumeBytes = 500 * gib }, func(f *preflight.Facts) { f.DiskFreeBytes = 400 * gib }, "disk", check.Fail,
			"400.0 GiB free at /var/lib; the data dir /var/lib/mc and 500.0 GiB for volumes (--volume-space) needs at least 520.0 GiB free at /var/lib"},
		{"disk with room for volumes, short of the recommendation", "control-plane", func(in *preflight.Input) { in.VolumeBytes = 6 * gib }, func(f *preflight.Facts) { f.DiskFreeBytes = 30 * gib }, "disk", check.Warn,
			"the data dir /var/lib/mc and 6.0 GiB for volumes (--volume-space) recommends 46.0 GiB"},
		{"disk pressure", "control-plane", nil, func(f *preflight.Facts) { f.DiskFreeBytes, f.DiskTotalBytes = 33*gib, 252*gib }, "disk pressure", check.Fail,
			"13.1% of 252.0 GiB free at /var/lib: below 15% the kubelet taints the node with disk-pressure and schedules no pod"},
		{"no disk pressure", "control-plane", nil, func(f *preflight.Facts) { f.DiskFreeBytes, f.DiskTotalBytes = 44*gib, 252*gib }, "disk pressure", check.Pass,
			"17% of 252.0 GiB free at /var/lib (the kubelet needs 15%)"},
		{"noexec", "control-plane", nil, func(f *preflight.Facts) { f.DataDirMount.Options = []string{"rw", "noexec"} }, "data dir filesystem", check.Fail, "ext4 at / is mounted noexec"},
		{"nfs", "control-plane", nil, func(f *preflight.Facts) { f.DataDirMount.FSType = "nfs4" }, "data dir filesystem", check.Fail, "nfs4 at /: containerd's overlayfs snapshotter cannot keep image layers there"},
		{"untested filesystem", "control-plane", nil, func(f *preflight.Facts) { f.DataDirMount.FSType = "f2fs" }, "data dir filesystem", check.Warn, "f2fs at / is untested"},
		{"port", "control-plane", nil, func(f *preflight.Facts) { f.Listening = []preflight.Listener{{Port: 22}, {Port: 8080}} }, "port 8080", check.Fail, "in use; mission-control needs it for the management API"},
		{"port with its process", "control-plane", nil, func(f *preflight.Facts) { f.Listening = []preflight.Listener{{Port: 7000, Process: "nc (pid 42)"}} }, "port 7000", check.Fail,
			"in use by nc (pid 42); mission-control needs it for the Cassandra internode"},
		{"other ports free", "control-plane", nil, func(f *preflight.Facts) { f.Listening = []preflight.Listener{{Port: 22}, {Port: 8080}} }, "port 6443", check.Pass, "free (Kubernetes API)"},
		{"network", "control-plane", nil, func(f *preflight.Facts) {
			f.Taken = []network.Route{{Dst: netip.MustParsePrefix("10.244.7.0/24"), Interface: "br0"}}
		}, "network ranges", check.Fail, "pod range 10.244.0.0/17 overlaps host route 10.244.7.0/24 on br0"},
		{"service range routed by the default route", "control-plane", nil, nil, "service range route", check.Pass, "services 10.244.128.0/17 are routed (route 0.0.0.0/0 on eth0)"},
		{"service range routed into a sink", "control-plane", nil, func(f *preflight.Facts) {
			f.Taken = []network.Route{{Dst: netip.MustParsePrefix("10.244.128.0/17"), Interface: "mc-svc0", EmptyBridge: true}}
		}, "service range route", check.Pass, "services 10.244.128.0/17 are routed (route 10.244.128.0/17 on mc-svc0)"},
		{"no route for the service range", "control-plane", nil, func(f *preflight.Facts) {
			f.Taken = []network.Route{{Dst: netip.MustParsePrefix("192.0.2.0/24"), Interface: "eth0"}}
		}, "service range route", check.Fail, "no route covers the service range 10.244.128.0/17"},
		{"node", "control-plane", nil, nil, "node address", check.Pass, "192.0.2.2 on eth0"},
		{"no node", "control-plane", nil, func(f *preflight.Facts) {
			f.NodeError = `network interface "eth9" does not exist; choose one of: eth0`
		}, "node address", check.Fail, `network interface "eth9" does not exist`},
		{"missing tool", "control-plane", nil, func(f *preflight.Facts) { f.Tools = map[string]string{"nft": "/usr/sbin/nft"} }, "tool xtables-nft-multi", check.Fail, "not installed"},
		{"read-only /proc/sys", "control-plane", nil, func(f *preflight.Facts) { f.ForwardingError = "read-only file system" }, "ip forwarding", check.Fail, "cannot be switched on: read-only file system"},
		{"long hostname", "control-plane", nil, func(f *preflight.Facts) { f.Hostname = strings.Repeat("a", 64) }, "hostname", check.Fail, "is 64 characters; k0s names the node after it and handles at most 63"},
		{"invalid hostname", "control-plane", nil, func(f *preflight.Facts) { f.Hostname = "cp_east" }, "hostname", check.Fail, `"cp_east" is not a valid node name`},
		{"clock", "control-plane", nil, func(f *preflight.Facts) { f.ClockSynced = false }, "clock sync", check.Warn, "unsynchronised"},
		{"selinux", "control-plane", nil, func(f *preflight.Facts) { f.SELinuxEnforcing = true }, "selinux", check.Warn, "enforcing"},
		{"firewalld", "control-plane", nil, func(f *preflight.Facts) { f.FirewalldRunning = true }, "firewalld", check.Warn, "running"},
		{"no systemd", "control-plane", nil, func(f *preflight.Facts) { f.Systemd = false }, "systemd", check.Warn, "mission-control supervises the runtime itself"},
		{"unnamed network namespace", "control-plane", nil, func(f *preflight.Facts) {
			f.NetnsError = "this runs in network namespace net:[4026532283], which has no name"
		}, "systemd", check.Fail, "could not run where install does"},
		{"unknown mode", "both", nil, nil, "mode", check.Fail, `unknown mode "both"`},
		{"telemetry aggregator answers", "data-plane", func(in *preflight.Input) { in.TelemetryAggregator = "192.0.2.9:30600" }, nil,
			"telemetry aggregator", check.Pass, "reached 192.0.2.9:30600"},
		{"telemetry aggregator not up yet", "data-plane", func(in *preflight.Input) { in.TelemetryAggregator = "192.0.2.9:30600" },
			func(f *preflight.Facts) { f.TelemetryError = "dial tcp 192.0.2.9:30600: connect: connection refused" },
			"telemetry aggregator", check.Warn, "192.0.2.9:30600 does not answer: dial tcp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := preflighttest.Roomy().Facts("control-plane")
			if tt.facts != nil {
				tt.facts(&f)
			}
			in := preflight.Input{Mode: tt.mode, DataDir: "/var/lib/mc", Network: plan(t)}
			if tt.in != nil {
				tt.in(&in)
			}
			r := preflight.Evaluate(in, f)
			got := find(r, tt.check)
			if got.Status != tt.status || !strings.Contains(got.Message, tt.msg) {
				t.Fatalf("%s = %+v, want %s containing %q", tt.check, got, tt.status, tt.msg)
			}
			if got.Status != check.Pass && got.Remedy == "" {
				t.Errorf("%s has no remedy", tt.check)
			}
			if got.Status == check.Pass && got.Remedy != "" {
				t.Errorf("%s passed with a remedy %q", tt.check, got.Remedy)
			}
		})
	}
}

// TestAnalyzedFirst: troubleshoot's verdicts lead the report, in the spec's order.
func TestAnalyzedFirst(t *testing.T) {
	f := preflighttest.Roomy().Facts("control-plane")
	r := preflight.Evaluate(preflight.Input{Mode: "control-plane", DataDir: "/d", Network: plan(t)}, f)
	for i, a := range f.Analyzed {
		if r.Results[i].Check != a.Check {
			t.Fatalf("result %d is %s, want troubleshoot's %s", i, r.Results[i].Check, a.Check)
		}
	}
	if len(f.Analyzed) == 0 || r.Results[len(f.Analyzed)].Check != "disk" {
		t.Errorf("our checks do not follow troubleshoot's: %+v", r.Results)
	}
}

// TestFirewalldRemedy: the remedy is the exact command, with the ports and this install's ranges.
func TestFirewalldRemedy(t *testing.T) {
	f := preflighttest.Roomy().Facts("control-plane")
	f.FirewalldRunning = true
	got := find(preflight.Evaluate(preflight.Input{Mode: "control-plane", DataDir: "/d", Network: plan(t)}, f), "firewalld").Remedy
	for _, want := range []string{"firewall-cmd --permanent --add-port=6443/tcp", "--add-port=30600/tcp", "--zone=trusted --add-source=10.244.0.0/17 --add-source=10.244.128.0/17", "firewall-cmd --reload"} {
		if !strings.Contains(got, want) {
			t.Errorf("remedy %q lacks %q", got, want)
		}
	}
}

func TestSummary(t *testing.T) {
	in := preflight.Input{Mode: "control-plane", DataDir: "/d", Network: plan(t)}
	small := preflighttest.Roomy()
	small.CPUs = 1
	f := small.Facts("control-plane")
	f.Listening = []preflight.Listener{{Port: 7000}}
	r := preflight.Evaluate(in, f)
	if got := r.Summary(); got != "2 of 36 checks failed: cpu, port 7000" {
		t.Errorf("Summary() = %q", got)
	}
	if got := preflight.Evaluate(in, preflighttest.Roomy().Facts("control-plane")).Summary(); got != "36 checks passed, 0 with warnings" {
		t.Errorf("Summary() = %q", got)
	}
}

// TestResumingOwnPorts: an install being resumed may run the runtime already, on its ports.
func TestResumingOwnPorts(t *testing.T) {
	f := preflighttest.Roomy().Facts("control-plane")
	f.Listening = []preflight.Listener{{Port: 6443, Process: "kube-apiserver (pid 7)"}, {Port: 10250}}
	r := preflight.Evaluate(preflight.Input{Mode: "control-plane", DataDir: "/d", Network: plan(t), Resuming: true}, f)
	if got := find(r, "port 6443"); got.Status != check.Pass || !strings.Contains(got.Message, "in use, by the runtime of the install being resumed") {
		t.Errorf("port 6443 = %+v", got)
	}
	if len(r.Failed()) != 0 {
		t.Errorf("failed: %+v", r.Failed())
	}
}
