package preflight

import (
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/datastax/mission-control/installer/network"
)

func plan(t *testing.T) network.Plan {
	p, err := network.Split("10.244.0.0/16")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

var roomy = Facts{CPUs: 8, MemoryBytes: 32 * gib, DiskFreeBytes: 500 * gib, DiskPath: "/var/lib",
	Node:  network.Node{Interface: "eth0", Address: netip.MustParseAddr("192.0.2.2")},
	Tools: map[string]string{"xtables-nft-multi": "/usr/sbin/xtables-nft-multi", "nft": "/usr/sbin/nft", "ip": "/usr/bin/ip"}}

func find(r Report, check string) Result {
	for _, res := range r.Results {
		if res.Check == check {
			return res
		}
	}
	return Result{}
}

func TestEvaluate(t *testing.T) {
	tests := []struct {
		name   string
		mode   string
		facts  func(*Facts)
		check  string
		status Status
		msg    string
	}{
		{"roomy", "control-plane", nil, "memory", Pass, "32.0 GiB"},
		{"cpu fail", "control-plane", func(f *Facts) { f.CPUs = 1 }, "cpu", Fail, "1 CPUs; control-plane mode needs at least 2 CPUs"},
		{"cpu warn", "data-plane", func(f *Facts) { f.CPUs = 2 }, "cpu", Warn, "2 CPUs; data-plane mode recommends 4 CPUs"},
		{"memory per mode", "data-plane", func(f *Facts) { f.MemoryBytes = 6 * gib }, "memory", Fail, "6.0 GiB; data-plane mode needs at least 8.0 GiB"},
		{"memory ok for control plane", "control-plane", func(f *Facts) { f.MemoryBytes = 6 * gib }, "memory", Warn, "recommends 8.0 GiB"},
		{"disk", "control-plane", func(f *Facts) { f.DiskFreeBytes = 5 * gib }, "disk", Fail, "5.0 GiB free at /var/lib; the data dir /var/lib/mc needs at least 10.0 GiB free at /var/lib"},
		{"disk pressure", "control-plane", func(f *Facts) { f.DiskFreeBytes, f.DiskTotalBytes = 33*gib, 252*gib }, "disk pressure", Fail,
			"13.1% of 252.0 GiB free at /var/lib: below 15% the kubelet taints the node with disk-pressure and schedules no pod"},
		{"no disk pressure", "control-plane", func(f *Facts) { f.DiskFreeBytes, f.DiskTotalBytes = 44*gib, 252*gib }, "disk pressure", Pass,
			"17% of 252.0 GiB free at /var/lib (the kubelet needs 15%)"},
		{"port", "control-plane", func(f *Facts) { f.Listening = []int{22, 8080} }, "port 8080", Fail, "in use; mission-control needs it for the management API"},
		{"other ports free", "control-plane", func(f *Facts) { f.Listening = []int{22, 8080} }, "port 6443", Pass, "free (Kubernetes API)"},
		{"network", "control-plane", func(f *Facts) {
			f.Taken = []network.Route{{Dst: netip.MustParsePrefix("10.244.7.0/24"), Interface: "br0"}}
		}, "network ranges", Fail, "pod range 10.244.0.0/17 overlaps host route 10.244.7.0/24 on br0"},
		{"node", "control-plane", nil, "node address", Pass, "192.0.2.2 on eth0"},
		{"no node", "control-plane", func(f *Facts) {
			f.NodeError = `network interface "eth9" does not exist; choose one of: eth0`
		}, "node address", Fail, `network interface "eth9" does not exist`},
		{"missing tool", "control-plane", func(f *Facts) { f.Tools = map[string]string{"nft": "/usr/sbin/nft"} }, "tool xtables-nft-multi", Fail, "not installed"},
		{"unknown mode", "both", nil, "mode", Fail, `unknown mode "both"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := roomy
			if tt.facts != nil {
				tt.facts(&f)
			}
			r := Evaluate(Input{Mode: tt.mode, DataDir: "/var/lib/mc", Network: plan(t)}, f)
			got := find(r, tt.check)
			if got.Status != tt.status || !strings.Contains(got.Message, tt.msg) {
				t.Fatalf("%s = %+v, want %s containing %q", tt.check, got, tt.status, tt.msg)
			}
			if got.Status != Pass && got.Remedy == "" {
				t.Errorf("%s has no remedy", tt.check)
			}
		})
	}
}

func TestSummary(t *testing.T) {
	f := roomy
	f.CPUs = 1
	f.Listening = []int{7000}
	r := Evaluate(Input{Mode: "control-plane", DataDir: "/d", Network: plan(t)}, f)
	if got := r.Summary(); got != "2 of 20 checks failed: cpu, port 7000" {
		t.Errorf("Summary() = %q", got)
	}
	if got := Evaluate(Input{Mode: "control-plane", DataDir: "/d", Network: plan(t)}, roomy).Summary(); got != "20 checks passed, 0 with warnings" {
		t.Errorf("Summary() = %q", got)
	}
}

// TestGather reads this machine. A listener this test opens on loopback must show up.
func TestGather(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	dir := filepath.Join(t.TempDir(), "not", "yet")
	f, err := Gather(Input{DataDir: dir}, network.Kernel{})
	if err != nil {
		t.Fatal(err)
	}
	if f.CPUs < 1 || f.MemoryBytes == 0 || f.DiskFreeBytes == 0 || f.DiskTotalBytes < f.DiskFreeBytes {
		t.Errorf("facts = %+v", f)
	}
	if f.DiskPath != filepath.Dir(filepath.Dir(dir)) {
		t.Errorf("disk measured at %s, want the nearest existing ancestor of %s", f.DiskPath, dir)
	}
	if !slices.Contains(f.Listening, port) {
		t.Errorf("listening ports %v lack %d", f.Listening, port)
	}
	if len(f.Taken) == 0 {
		t.Error("no routes or addresses found")
	}
}

func TestParsers(t *testing.T) {
	dir := t.TempDir()
	meminfo := filepath.Join(dir, "meminfo")
	os.WriteFile(meminfo, []byte("MemFree: 1 kB\nMemTotal:       24576000 kB\n"), 0o600)
	if got, err := memTotal(meminfo); err != nil || got != 24576000*1024 {
		t.Errorf("memTotal = %d, %v", got, err)
	}
	os.WriteFile(meminfo, []byte("nothing here\n"), 0o600)
	if _, err := memTotal(meminfo); err == nil {
		t.Error("memTotal accepted a file without MemTotal")
	}
	tcp := filepath.Join(dir, "tcp")
	os.WriteFile(tcp, []byte(`  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:07E8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0000000000000000 100 0 0 10 0
   1: 0100007F:1F90 0100007F:9C40 01 00000000:00000000 00:00000000 00000000     0        0 2 1 0000000000000000 20 4 30 10 -1
`), 0o600)
	if got, err := listeningPorts(tcp); err != nil || !slices.Equal(got, []int{2024}) {
		t.Errorf("listeningPorts = %v, %v; want [2024] (8080 is an established connection)", got, err)
	}
}

// TestResumingOwnPorts: an install being resumed may run the runtime already, on its ports.
func TestResumingOwnPorts(t *testing.T) {
	f := roomy
	f.Listening = []int{6443, 10250}
	r := Evaluate(Input{Mode: "control-plane", DataDir: "/d", Network: plan(t), Resuming: true}, f)
	if got := find(r, "port 6443"); got.Status != Pass || !strings.Contains(got.Message, "in use, by the runtime of the install being resumed") {
		t.Errorf("port 6443 = %+v", got)
	}
	if len(r.Failed()) != 0 {
		t.Errorf("failed: %+v", r.Failed())
	}
}
