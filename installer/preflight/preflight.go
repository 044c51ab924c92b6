// Package preflight judges whether this host can run mission-control before anything is
// installed: resources per mode, free ports, and the cluster's network ranges. Facts are gathered
// from the host once; Evaluate is a pure function of them, so every verdict is unit-tested.
package preflight

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/datastax/mission-control/installer/network"
)

// Status is a check's verdict.
type Status string

// Verdicts. A failure stops install unless --ignore-host-preflights; a warning does not.
const (
	Pass Status = "pass"
	Warn Status = "warn"
	Fail Status = "fail"
)

// Result is one check's verdict, with the remedy when it did not pass.
type Result struct {
	Check   string `json:"check"`
	Status  Status `json:"status"`
	Message string `json:"message"`
	Remedy  string `json:"remedy,omitempty"`
}

// Report is the verdicts of every check, in a fixed order.
type Report struct {
	Results []Result `json:"results"`
}

// Failed returns the failed checks.
func (r Report) Failed() []Result { return r.with(Fail) }

// Warned returns the checks that passed with a warning.
func (r Report) Warned() []Result { return r.with(Warn) }

func (r Report) with(s Status) []Result {
	var out []Result
	for _, res := range r.Results {
		if res.Status == s {
			out = append(out, res)
		}
	}
	return out
}

// Summary is one line naming the failures, or the count of passes.
func (r Report) Summary() string {
	failed, warned := r.Failed(), r.Warned()
	if len(failed) == 0 {
		return fmt.Sprintf("%d checks passed, %d with warnings", len(r.Results), len(warned))
	}
	names := make([]string, len(failed))
	for i, f := range failed {
		names[i] = f.Check
	}
	return fmt.Sprintf("%d of %d checks failed: %s", len(failed), len(r.Results), strings.Join(names, ", "))
}

// Facts is what the checks judge, as read from the host by Gather.
type Facts struct {
	CPUs           int
	MemoryBytes    uint64
	DiskFreeBytes  uint64 // available to the data dir, as the kubelet counts it (without root's reserve)
	DiskTotalBytes uint64
	DiskPath       string // the existing directory the free space was measured at
	Listening      []int  // TCP ports something listens on
	Taken          []network.Route
	Node           network.Node // the node address, when it could be chosen
	NodeError      string       // why it could not
	// Tools the runtime and reset need on the host, found by name; empty when missing.
	Tools map[string]string
}

// RequiredTools are host programs the runtime (k0s links iptables to xtables-nft-multi) and
// reset (nft, ip) need, with the packages that provide them on Debian/Ubuntu and on RHEL/Rocky.
var RequiredTools = []struct{ Name, Deb, RPM string }{
	{"xtables-nft-multi", "iptables", "iptables-nft"},
	{"nft", "nftables", "nftables"},
	{"ip", "iproute2", "iproute"},
}

// Input is what is being installed.
type Input struct {
	Mode             string // control-plane or data-plane
	DataDir          string
	NetworkInterface string // empty: the default route's
	Network          network.Plan
	// OwnDevices are the runtime's network devices, whose routes are not conflicts.
	OwnDevices []string
	// Resuming: an unfinished install of this data dir may already run the runtime, whose
	// ports are then in use by it.
	Resuming bool
}

const gib = 1 << 30

// requirement is a minimum (below it: fail) and a recommendation (below it: warn).
type requirement struct{ min, recommended uint64 }

// requirements per mode. Data planes run Cassandra, whose JVM heap alone wants several GiB.
var requirements = map[string]struct{ cpus, memory, disk requirement }{
	"control-plane": {cpus: requirement{2, 4}, memory: requirement{4 * gib, 8 * gib}, disk: requirement{10 * gib, 40 * gib}},
	"data-plane":    {cpus: requirement{2, 4}, memory: requirement{8 * gib, 16 * gib}, disk: requirement{20 * gib, 100 * gib}},
}

// MinDisk is the free space the data dir needs in mode, before any air-gap bundle.
func MinDisk(mode string) uint64 { return requirements[mode].disk.min }

// Ports the platform binds on the host.
var Ports = []struct {
	Port int
	Use  string
}{
	{6443, "Kubernetes API"}, {2379, "etcd clients"}, {2380, "etcd peers"}, {9443, "k0s API and webhooks"},
	{10250, "kubelet"}, {10257, "kube-controller-manager"}, {10259, "kube-scheduler"},
	{7000, "Cassandra internode"}, {7001, "Cassandra internode (TLS)"}, {8080, "management API"},
	{30600, "telemetry aggregator"},
}

// Evaluate judges the facts for the input.
func Evaluate(in Input, f Facts) Report {
	req, ok := requirements[in.Mode]
	if !ok {
		return Report{Results: []Result{{Check: "mode", Status: Fail, Message: fmt.Sprintf("unknown mode %q", in.Mode), Remedy: "use --mode control-plane or --mode data-plane"}}}
	}
	var r Report
	r.Results = append(r.Results,
		judge("cpu", uint64(f.CPUs), req.cpus, func(v uint64) string { return fmt.Sprintf("%d CPUs", v) },
			fmt.Sprintf("%s mode", in.Mode), "use a host with more CPUs"),
		judge("memory", f.MemoryBytes, req.memory, bytesGiB,
			fmt.Sprintf("%s mode", in.Mode), "use a host with more memory"),
		judge("disk", f.DiskFreeBytes, req.disk, func(v uint64) string { return bytesGiB(v) + " free at " + f.DiskPath },
			"the data dir "+in.DataDir, "free space there, or choose another --data-dir"),
	)
	r.Results = append(r.Results, diskPressureResult(f))
	r.Results = append(r.Results, portResults(f.Listening, in.Resuming)...)
	r.Results = append(r.Results, networkResult(in.Network, f.Taken), nodeResult(f))
	r.Results = append(r.Results, toolResults(f.Tools)...)
	return r
}

// kubeletImagefsMinPercent is the kubelet's default hard eviction threshold for the filesystem
// holding images (imagefs.available<15%): below it, the node is tainted with disk-pressure and no
// pod is scheduled, however many bytes are free.
const kubeletImagefsMinPercent = 15

func diskPressureResult(f Facts) Result {
	r := Result{Check: "disk pressure", Status: Pass}
	if f.DiskTotalBytes == 0 {
		r.Message = "filesystem size unknown"
		return r
	}
	percent := float64(f.DiskFreeBytes) * 100 / float64(f.DiskTotalBytes)
	r.Message = fmt.Sprintf("%.0f%% of %s free at %s (the kubelet needs %d%%)", percent, bytesGiB(f.DiskTotalBytes), f.DiskPath, kubeletImagefsMinPercent)
	if percent < kubeletImagefsMinPercent {
		r.Status = Fail
		r.Message = fmt.Sprintf("%.1f%% of %s free at %s: below %d%% the kubelet taints the node with disk-pressure and schedules no pod", percent, bytesGiB(f.DiskTotalBytes), f.DiskPath, kubeletImagefsMinPercent)
		r.Remedy = "free space there, or choose a --data-dir on a filesystem with more room"
	}
	return r
}

func toolResults(found map[string]string) []Result {
	var out []Result
	for _, t := range RequiredTools {
		r := Result{Check: "tool " + t.Name, Status: Pass, Message: found[t.Name]}
		if found[t.Name] == "" {
			r.Status, r.Message = Fail, "not installed"
			r.Remedy = fmt.Sprintf("install it: apt-get install %s, or dnf install %s", t.Deb, t.RPM)
		}
		out = append(out, r)
	}
	return out
}

func nodeResult(f Facts) Result {
	if f.NodeError != "" {
		msg, remedy, _ := strings.Cut(f.NodeError, "; ")
		return Result{Check: "node address", Status: Fail, Message: msg, Remedy: remedy}
	}
	return Result{Check: "node address", Status: Pass, Message: fmt.Sprintf("%s on %s", f.Node.Address, f.Node.Interface)}
}

func bytesGiB(v uint64) string { return fmt.Sprintf("%.1f GiB", float64(v)/gib) }

func judge(check string, have uint64, req requirement, show func(uint64) string, what, remedy string) Result {
	switch {
	case have < req.min:
		return Result{Check: check, Status: Fail, Message: fmt.Sprintf("%s; %s needs at least %s", show(have), what, show(req.min)), Remedy: remedy}
	case have < req.recommended:
		return Result{Check: check, Status: Warn, Message: fmt.Sprintf("%s; %s recommends %s", show(have), what, show(req.recommended)), Remedy: remedy}
	default:
		return Result{Check: check, Status: Pass, Message: show(have)}
	}
}

func portResults(listening []int, resuming bool) []Result {
	var out []Result
	for _, p := range Ports {
		r := Result{Check: fmt.Sprintf("port %d", p.Port), Status: Pass, Message: "free (" + p.Use + ")"}
		switch {
		case !slices.Contains(listening, p.Port):
		case resuming:
			r.Message = "in use, by the runtime of the install being resumed (" + p.Use + ")"
		default:
			r.Status = Fail
			r.Message = fmt.Sprintf("in use; mission-control needs it for the %s", p.Use)
			r.Remedy = fmt.Sprintf("stop the program listening on it (find it with: ss -ltnp 'sport = :%d')", p.Port)
		}
		out = append(out, r)
	}
	return out
}

func networkResult(plan network.Plan, taken []network.Route) Result {
	r := Result{Check: "network ranges", Status: Pass, Message: fmt.Sprintf("pods %s and services %s overlap no host route or address", plan.PodCIDR, plan.ServiceCIDR)}
	var conflict *network.ConflictError
	if errors.As(plan.CheckHost(taken), &conflict) {
		r.Status, r.Message, r.Remedy = Fail, conflict.Problem(), conflict.Suggestion
	}
	return r
}
