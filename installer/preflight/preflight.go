// Package preflight judges whether this host can run mission-control before anything is
// installed. troubleshoot's host collectors and analyzers, driven by an embedded HostPreflight
// spec, judge CPUs, memory, the distribution, kernel features and cgroups; our own checks judge
// what troubleshoot cannot (or not as the kubelet does): disk space and pressure, the data dir's
// filesystem, ports with the process holding them, network ranges, tools, forwarding, hostname,
// clock, SELinux, firewalld and systemd. Facts are gathered from the host once; Evaluate is a
// pure function of them, so every verdict is unit-tested.
package preflight

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/datastax/mission-control/internal/check"
	"github.com/datastax/mission-control/internal/host"
	"github.com/datastax/mission-control/internal/network"
	"github.com/datastax/mission-control/internal/progress"
	"github.com/datastax/mission-control/runtime/k0s"
)

// Facts is what the checks judge, as read from the host by Gather.
type Facts struct {
	// Analyzed is the verdicts of troubleshoot's host analyzers (package hostpreflight), which
	// Evaluate reports first.
	Analyzed       []check.Result
	DiskFreeBytes  uint64 // available to the data dir, as the kubelet counts it (without root's reserve)
	DiskTotalBytes uint64
	DiskPath       string     // the existing directory the free space was measured at
	DataDirMount   host.Mount // the filesystem DiskPath is on
	Listening      []Listener
	Taken          []network.Route
	Node           network.Node // the node address, when it could be chosen
	NodeError      string       // why it could not
	// Tools the runtime and reset need on the host, found by name; empty when missing.
	Tools map[string]string
	// ForwardingError is why IPv4 forwarding could not be switched on (k0s does it), if it cannot.
	ForwardingError  string
	Hostname         string
	ClockSynced      bool
	SELinuxEnforcing bool
	FirewalldRunning bool
	Systemd          bool
	// NetnsError is why systemd could not start the runtime in this process's network namespace
	// (it has no name), if it cannot.
	NetnsError string
	// TelemetryError is why the telemetry aggregator could not be reached, when it was given.
	TelemetryError string
}

// Listener is a TCP port something listens on, and the process holding it when found.
type Listener struct {
	Port    int
	Process string // e.g. "nc (pid 4242)"; empty when no process of this host's PID namespace holds it
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
	// BundleImageBytes is the air-gap bundle's uncompressed image size; the data dir needs twice
	// that (the import copy and containerd's unpacked layers) beside the mode's minimum.
	BundleImageBytes uint64
	// VolumeBytes is the room the cluster's volumes need (install --volume-space): they live in
	// the data dir, beside the mode's minimum.
	VolumeBytes uint64
	// TelemetryAggregator is the host:port a data plane sends telemetry to, when given.
	TelemetryAggregator string
}

const gib = 1 << 30

// Requirement is a minimum (below it: fail) and a recommendation (below it: warn).
type Requirement struct{ Min, Recommended uint64 }

// Requirements are a mode's resource needs.
type Requirements struct{ CPUs, Memory, Disk Requirement }

// requirements per mode. Data planes run Cassandra, whose JVM heap alone wants several GiB.
var requirements = map[string]Requirements{
	"control-plane": {CPUs: Requirement{2, 4}, Memory: Requirement{4 * gib, 8 * gib}, Disk: Requirement{10 * gib, 40 * gib}},
	"data-plane":    {CPUs: Requirement{2, 4}, Memory: Requirement{8 * gib, 16 * gib}, Disk: Requirement{20 * gib, 100 * gib}},
}

// RequirementsOf returns mode's needs, and whether mode is known.
func RequirementsOf(mode string) (Requirements, bool) {
	r, ok := requirements[mode]
	return r, ok
}

// Ports the platform binds on the host.
var Ports = []struct {
	Port int
	Use  string
}{
	{6443, "Kubernetes API"}, {2379, "etcd clients"}, {2380, "etcd peers"}, {9443, "k0s API and webhooks"},
	{10250, "kubelet"}, {10257, "kube-controller-manager"}, {10259, "kube-scheduler"},
	{k0s.BGPPort, "kube-router BGP"}, {k0s.GoBGPPort, "kube-router gobgp API"}, {k0s.NetworkHealthPort, "kube-router health"},
	{7000, "Cassandra internode"}, {7001, "Cassandra internode (TLS)"}, {8080, "management API"},
	{30600, "telemetry aggregator"},
}

// Evaluate judges the facts for the input: troubleshoot's verdicts first, then our own checks.
func Evaluate(in Input, f Facts) check.Report {
	req, ok := requirements[in.Mode]
	if !ok {
		return check.Report{Results: []check.Result{{Check: "mode", Status: check.Fail, Message: fmt.Sprintf("unknown mode %q", in.Mode), Remedy: "use --mode control-plane or --mode data-plane"}}}
	}
	var r check.Report
	r.Results = append(r.Results, f.Analyzed...)
	extra := 2*in.BundleImageBytes + in.VolumeBytes
	disk := Requirement{Min: req.Disk.Min + extra, Recommended: req.Disk.Recommended + extra}
	what := "the data dir " + in.DataDir
	if in.BundleImageBytes > 0 {
		what += " with the air-gap bundle's images twice"
	}
	remedy := "free space there, or choose another --data-dir"
	if in.VolumeBytes > 0 {
		what += " and " + size(in.VolumeBytes) + " for volumes (--volume-space)"
		remedy += ", or expect less room for volumes with --volume-space"
	}
	r.Results = append(r.Results,
		judge("disk", f.DiskFreeBytes, disk, func(v uint64) string { return size(v) + " free at " + f.DiskPath },
			what, remedy),
		diskPressureResult(f), filesystemResult(f.DataDirMount))
	r.Results = append(r.Results, portResults(f.Listening, in.Resuming)...)
	r.Results = append(r.Results, networkResult(in.Network, f.Taken), serviceRouteResult(in.Network, f.Taken), nodeResult(f))
	r.Results = append(r.Results, toolResults(f.Tools)...)
	if in.TelemetryAggregator != "" {
		r.Results = append(r.Results, telemetryResult(in.TelemetryAggregator, f.TelemetryError))
	}
	r.Results = append(r.Results, forwardingResult(f), hostnameResult(f.Hostname), clockResult(f),
		selinuxResult(f), firewalldResult(f, in), systemdResult(f))
	return r
}

// kubeletImagefsMinPercent is the kubelet's default hard eviction threshold for the filesystem
// holding images (imagefs.available<15%): below it, the node is tainted with disk-pressure and no
// pod is scheduled, however many bytes are free.
const kubeletImagefsMinPercent = 15

func diskPressureResult(f Facts) check.Result {
	r := check.Result{Check: "disk pressure", Status: check.Pass}
	if f.DiskTotalBytes == 0 {
		r.Message = "filesystem size unknown"
		return r
	}
	percent := float64(f.DiskFreeBytes) * 100 / float64(f.DiskTotalBytes)
	r.Message = fmt.Sprintf("%.0f%% of %s free at %s (the kubelet needs %d%%)", percent, size(f.DiskTotalBytes), f.DiskPath, kubeletImagefsMinPercent)
	if percent < kubeletImagefsMinPercent {
		r.Status = check.Fail
		r.Message = fmt.Sprintf("%.1f%% of %s free at %s: below %d%% the kubelet taints the node with disk-pressure and schedules no pod", percent, size(f.DiskTotalBytes), f.DiskPath, kubeletImagefsMinPercent)
		r.Remedy = "free space there, or choose a --data-dir on a filesystem with more room"
	}
	return r
}

func toolResults(found map[string]string) []check.Result {
	var out []check.Result
	for _, t := range RequiredTools {
		r := check.Result{Check: "tool " + t.Name, Status: check.Pass, Message: found[t.Name]}
		if found[t.Name] == "" {
			r.Status, r.Message = check.Fail, "not installed"
			r.Remedy = fmt.Sprintf("install it: apt-get install %s, or dnf install %s", t.Deb, t.RPM)
		}
		out = append(out, r)
	}
	return out
}

// telemetryResult warns, and no more, when the aggregator does not answer: a data plane may be
// installed before its control plane, and telemetry flows once the aggregator is up.
func telemetryResult(aggregator, problem string) check.Result {
	if problem == "" {
		return check.Result{Check: "telemetry aggregator", Status: check.Pass, Message: "reached " + aggregator}
	}
	return check.Result{Check: "telemetry aggregator", Status: check.Warn, Message: fmt.Sprintf("%s does not answer: %s", aggregator, problem),
		Remedy: "check that the control plane is installed and that this host reaches port 30600 of its node (firewalls, routes); install goes on, and telemetry flows once it answers"}
}

func nodeResult(f Facts) check.Result {
	if f.NodeError != "" {
		msg, remedy, _ := strings.Cut(f.NodeError, "; ")
		return check.Result{Check: "node address", Status: check.Fail, Message: msg, Remedy: remedy}
	}
	return check.Result{Check: "node address", Status: check.Pass, Message: fmt.Sprintf("%s on %s", f.Node.Address, f.Node.Interface)}
}

func size(v uint64) string { return progress.Size(int64(v)) }

func judge(name string, have uint64, req Requirement, show func(uint64) string, what, remedy string) check.Result {
	switch {
	case have < req.Min:
		return check.Result{Check: name, Status: check.Fail, Message: fmt.Sprintf("%s; %s needs at least %s", show(have), what, show(req.Min)), Remedy: remedy}
	case have < req.Recommended:
		return check.Result{Check: name, Status: check.Warn, Message: fmt.Sprintf("%s; %s recommends %s", show(have), what, show(req.Recommended)), Remedy: remedy}
	default:
		return check.Result{Check: name, Status: check.Pass, Message: show(have)}
	}
}

func portResults(listening []Listener, resuming bool) []check.Result {
	var out []check.Result
	for _, p := range Ports {
		r := check.Result{Check: fmt.Sprintf("port %d", p.Port), Status: check.Pass, Message: "free (" + p.Use + ")"}
		i := slices.IndexFunc(listening, func(l Listener) bool { return l.Port == p.Port })
		switch {
		case i < 0:
		case resuming:
			r.Message = "in use, by the runtime of the install being resumed (" + p.Use + ")"
		case listening[i].Process != "":
			r.Status = check.Fail
			r.Message = fmt.Sprintf("in use by %s; mission-control needs it for the %s", listening[i].Process, p.Use)
			r.Remedy = fmt.Sprintf("stop %s or move it to another port", listening[i].Process)
		default:
			r.Status = check.Fail
			r.Message = fmt.Sprintf("in use; mission-control needs it for the %s", p.Use)
			r.Remedy = fmt.Sprintf("stop the program listening on it (find it with: ss -ltnp 'sport = :%d')", p.Port)
		}
		out = append(out, r)
	}
	return out
}

// serviceRouteResult: the runtime's own processes on the host network (the API server calling
// the operators' webhooks) reach Services only where a route covers the service range, so that
// kube-proxy's rules can rewrite the destination; a host with no default route has none.
func serviceRouteResult(plan network.Plan, routes []network.Route) check.Result {
	svc := plan.ServiceCIDR
	r := check.Result{Check: "service range route", Status: check.Pass}
	i := slices.IndexFunc(routes, func(rt network.Route) bool {
		return !rt.Address && rt.Interface != "" && rt.Dst.Bits() <= svc.Bits() && rt.Dst.Contains(svc.Addr())
	})
	if i >= 0 {
		r.Message = fmt.Sprintf("services %s are routed (%s)", svc, routes[i])
		return r
	}
	r.Status = check.Fail
	r.Message = fmt.Sprintf("no route covers the service range %s: the runtime's API server could not call the operators' webhooks through their Services", svc)
	r.Remedy = fmt.Sprintf("give the host a default route (ip route add default via GATEWAY), or route the range into an empty bridge: ip link add mc-svc0 type bridge && ip link set mc-svc0 up && ip route add %s dev mc-svc0", svc)
	return r
}

func networkResult(plan network.Plan, taken []network.Route) check.Result {
	r := check.Result{Check: "network ranges", Status: check.Pass, Message: fmt.Sprintf("pods %s and services %s overlap no host route or address", plan.PodCIDR, plan.ServiceCIDR)}
	var conflict *network.ConflictError
	if errors.As(plan.CheckHost(taken), &conflict) {
		r.Status, r.Message, r.Remedy = check.Fail, conflict.Problem(), conflict.Suggestion
	}
	return r
}
