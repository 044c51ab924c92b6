package k0s

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/datastax/mission-control/internal/contract"
	"github.com/datastax/mission-control/internal/datadir"
	"github.com/datastax/mission-control/internal/host"
)

// changedSysctls are the kernel parameters the runtime sets: k0s' worker (forwarding), the
// kubelet (it has no opt-out) and kube-proxy. Reset puts each back to its value before install.
var changedSysctls = []string{
	"net.ipv4.ip_forward",
	"net.ipv4.conf.all.forwarding",
	"net.ipv4.conf.default.forwarding",
	"net.ipv6.conf.all.forwarding",
	"net.ipv6.conf.default.forwarding",
	"net.ipv4.conf.all.route_localnet",
	"net.bridge.bridge-nf-call-iptables",
	"net.bridge.bridge-nf-call-ip6tables",
	"net.netfilter.nf_conntrack_max",
	"net.netfilter.nf_conntrack_tcp_timeout_established",
	"net.netfilter.nf_conntrack_tcp_timeout_close_wait",
	"vm.overcommit_memory",
	"vm.panic_on_oom",
	"kernel.panic",
	"kernel.panic_on_oops",
	"kernel.keys.root_maxkeys",
	"kernel.keys.root_maxbytes",
}

// createdPaths are host paths outside the data dir that k0s, containerd, the kubelet or the CNI
// plugins create. Reset removes each one that did not exist before install.
var createdPaths = []string{
	"/etc/k0s",
	"/run/k0s",
	"/run/containerd",
	"/run/netns",
	"/run/xtables.lock",
	"/var/lib/cni",
	"/var/log/pods",
	"/var/log/containers",
	"/usr/libexec/k0s",
	"/lib/modules",     // a hostPath of kube-proxy: containerd creates missing sources
	"/var/lib/kubelet", // the kubelet's device plugin socket, there whatever its --root-dir
	"/run/mount",       // libmount's lock and table, from the mount(8) the kubelet runs for volumes
}

// k0sUsers are the system users k0s creates for its components.
var k0sUsers = []string{"etcd", "kube-apiserver", "kube-scheduler", "konnectivity-server"}

// HostState is the host as it was before the runtime changed it.
type HostState struct {
	Sysctls   map[string]string `json:"sysctls"`   // absent keys are not on this kernel
	Paths     map[string]bool   `json:"paths"`     // whether each of createdPaths existed
	Users     map[string]bool   `json:"users"`     // whether each of k0sUsers existed
	NftTables []string          `json:"nftTables"` // e.g. "ip filter"; iptables-nft makes the others
	// NftChains are the chains of those tables, e.g. "ip filter FORWARD": reset deletes the empty
	// ones iptables-nft added to a table that stays (podman's made it with FORWARD only).
	NftChains []string `json:"nftChains,omitempty"`
	// Chains are, per iptables family, the runtime-named chains ("filter:CNI-FORWARD") other
	// programs had before install (podman's CNI firewall plugin makes CNI-FORWARD): reset keeps
	// them with their rules.
	Chains map[string][]string `json:"chains,omitempty"`
	// Cgroups are the kubepods cgroups there before install (another kubelet's): reset keeps them.
	Cgroups []string `json:"cgroups,omitempty"`
	// Mounts are the mount points at or under the data dir and createdPaths that were there
	// before install (a data dir on a disk of its own): reset leaves them mounted.
	Mounts []string `json:"mounts,omitempty"`
	// IPSets are the pod network's IP sets (by their names: kube-router's) there before install
	// (another kube-router's): reset keeps them.
	IPSets []string `json:"ipSets,omitempty"`
	// PodRoutes are the destinations of the pod network's routes (kube-router's protocol, 17)
	// there before install (another kube-router's): reset keeps them. kube-router leaves the
	// routes it learned over BGP (other nodes' and registered clusters' pod ranges) when it
	// stops, for a restart to find.
	PodRoutes []string `json:"podRoutes,omitempty"`
}

// podRouteProtocol is the routing protocol number kube-router marks its routes with.
const podRouteProtocol = "17"

// podRoutes lists the destinations of the host's routes of kube-router's protocol.
func podRoutes(ctx context.Context, h host.Host) ([]string, error) {
	out, err := h.Run(ctx, host.Command{Name: "ip", Args: []string{"-4", "route", "show", "proto", podRouteProtocol}})
	if err != nil {
		return nil, fmt.Errorf("list the pod network's routes: %w", err)
	}
	var dsts []string
	for line := range strings.Lines(string(out)) {
		if fields := strings.Fields(line); len(fields) > 0 {
			dsts = append(dsts, fields[0])
		}
	}
	return dsts, nil
}

// removePodRoutes deletes the pod network's routes that were not there before install.
func removePodRoutes(ctx context.Context, h host.Host, before []string) error {
	dsts, err := podRoutes(ctx, h)
	if err != nil {
		return err
	}
	var errs []error
	for _, dst := range dsts {
		if !slices.Contains(before, dst) {
			if _, err := h.Run(ctx, host.Command{Name: "ip", Args: []string{"-4", "route", "del", dst, "proto", podRouteProtocol}}); err != nil {
				errs = append(errs, fmt.Errorf("remove the route to %s: %w", dst, err))
			}
		}
	}
	return errors.Join(errs...)
}

// RecordHostState reads what reset must restore. Listing nftables' ruleset and saving iptables'
// rules take commands, the only ones it runs, and they change nothing.
func RecordHostState(ctx context.Context, h host.Host, l datadir.Layout) (HostState, error) {
	s := HostState{Sysctls: map[string]string{}, Paths: map[string]bool{}, Users: map[string]bool{}}
	mounts, err := host.MountTable(h)
	if err != nil {
		return s, fmt.Errorf("read mount table: %w", err)
	}
	for _, m := range mounts {
		if runtimeArea(l, m.Point) && !slices.Contains(s.Mounts, m.Point) {
			s.Mounts = append(s.Mounts, m.Point)
		}
	}
	r := h
	for _, k := range changedSysctls {
		if v, err := r.Sysctl(k); err == nil {
			s.Sysctls[k] = v
		}
	}
	for _, p := range createdPaths {
		ok, err := r.Exists(p)
		if err != nil {
			return s, err
		}
		s.Paths[p] = ok
	}
	users, err := systemUsers(r)
	if err != nil {
		return s, err
	}
	for _, u := range k0sUsers {
		s.Users[u] = slices.Contains(users, u)
	}
	ruleset, err := nftRuleset(ctx, h)
	if err != nil {
		return s, err
	}
	s.NftTables, s.NftChains = ruleset.tableNames(), ruleset.chainNames()
	for _, family := range iptablesFamilies {
		saved, err := h.Run(ctx, host.Command{Name: family + "-nft-save"})
		if err != nil {
			return s, fmt.Errorf("save %s rules: %w", family, err)
		}
		if chains := runtimeChains(string(saved)); len(chains) > 0 {
			if s.Chains == nil {
				s.Chains = map[string][]string{}
			}
			s.Chains[family] = chains
		}
	}
	s.Cgroups = kubepodsCgroups(h)
	if s.IPSets, err = networkIPSets(h); err != nil {
		return s, err
	}
	if s.PodRoutes, err = podRoutes(ctx, h); err != nil {
		return s, err
	}
	return s, nil
}

var iptablesFamilies = []string{"iptables", "ip6tables"}

// nftTable is a table of the host's nftables ruleset, e.g. "ip filter".
type nftTable struct {
	name       string
	chains     []nftChain
	referenced map[string]bool // chains a rule jumps or goes to
	other      bool            // it holds a set, map or other object beside chains
}

type nftChain struct {
	name  string
	rules int
}

type nftRulesetListing []nftTable

func (r nftRulesetListing) tableNames() []string {
	var names []string
	for _, t := range r {
		names = append(names, t.name)
	}
	return names
}

func (r nftRulesetListing) chainNames() []string {
	var names []string
	for _, t := range r {
		for _, c := range t.chains {
			names = append(names, t.name+" "+c.name)
		}
	}
	return names
}

// nftRuleset reads the host's nftables tables and chains.
func nftRuleset(ctx context.Context, h host.Host) (nftRulesetListing, error) {
	out, err := h.Run(ctx, host.Command{Name: "nft", Args: []string{"list", "ruleset"}})
	if err != nil {
		return nil, fmt.Errorf("list nftables ruleset: %w", err)
	}
	return parseNftRuleset(string(out)), nil
}

// parseNftRuleset reads `nft list ruleset`: a table's block holds chains, whose lines are their
// type declaration and rules, and other objects (sets, maps), whose lines are their elements.
func parseNftRuleset(listing string) nftRulesetListing {
	var tables nftRulesetListing
	var table *nftTable
	var chain *nftChain
	depth := 0
	for line := range strings.SplitSeq(listing, "\n") {
		line = strings.TrimSpace(line)
		fields := strings.Fields(line)
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case depth == 0 && len(fields) >= 3 && fields[0] == "table":
			tables = append(tables, nftTable{name: fields[1] + " " + fields[2], referenced: map[string]bool{}})
			table, depth = &tables[len(tables)-1], 1
		case line == "}" || strings.HasPrefix(line, "} "):
			if depth--; depth < 2 {
				chain = nil
			}
		case depth == 1 && len(fields) >= 2 && fields[0] == "chain":
			table.chains = append(table.chains, nftChain{name: fields[1]})
			chain, depth = &table.chains[len(table.chains)-1], 2
		case depth == 1:
			table.other = true
			if strings.HasSuffix(strings.Split(line, " #")[0], "{") {
				depth = 2
			}
		case chain != nil && depth == 2:
			if strings.HasPrefix(line, "type ") || strings.HasPrefix(line, "policy ") {
				continue
			}
			chain.rules++
			for i, f := range fields {
				if (f == "jump" || f == "goto") && i+1 < len(fields) {
					table.referenced[fields[i+1]] = true
				}
			}
		}
	}
	return tables
}

// removeNewEmptyNft deletes what iptables-nft made for the runtime and no rule fills any more:
// tables that did not exist before install and, in the tables that did, chains that did not.
// Another program's rules keep a table, and its jumps keep a chain.
func removeNewEmptyNft(ctx context.Context, h host.Host, before HostState) error {
	now, err := nftRuleset(ctx, h)
	if err != nil {
		return err
	}
	var errs []error
	for _, t := range now {
		family, name, _ := strings.Cut(t.name, " ")
		if !slices.Contains(before.NftTables, t.name) {
			if !t.other && !slices.ContainsFunc(t.chains, func(c nftChain) bool { return c.rules > 0 }) {
				_, err := h.Run(ctx, host.Command{Name: "nft", Args: []string{"delete", "table", family, name}})
				errs = append(errs, err)
			}
			continue
		}
		if before.NftChains == nil {
			continue // recorded by a version that did not list chains
		}
		for _, c := range t.chains {
			if c.rules == 0 && !t.referenced[c.name] && !slices.Contains(before.NftChains, t.name+" "+c.name) {
				_, err := h.Run(ctx, host.Command{Name: "nft", Args: []string{"delete", "chain", family, name, c.name}})
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

func systemUsers(r host.Reader) ([]string, error) {
	passwd, err := r.ReadFile("/etc/passwd")
	if err != nil {
		return nil, fmt.Errorf("read users: %w", err)
	}
	var names []string
	for line := range strings.SplitSeq(string(passwd), "\n") {
		if name, _, ok := strings.Cut(line, ":"); ok {
			names = append(names, name)
		}
	}
	return names, nil
}

// Marshal encodes the state for the data dir.
func (s HostState) Marshal() ([]byte, error) {
	b, err := json.MarshalIndent(s, "", "  ")
	return append(b, '\n'), err
}

// LoadHostState reads the recorded state; ok is false when none was recorded.
func LoadHostState(r host.Reader, l datadir.Layout) (s HostState, ok bool, err error) {
	data, err := r.ReadFile(l.HostStateFile())
	if errors.Is(err, fs.ErrNotExist) {
		return s, false, nil
	}
	if err != nil {
		return s, false, fmt.Errorf("read recorded host state: %w", err)
	}
	if err := json.Unmarshal(data, &s); err != nil {
		return s, false, fmt.Errorf("recorded host state %s is damaged: %w", l.HostStateFile(), err)
	}
	return s, true, nil
}

// Cleanup removes what the runtime leaves on the host after k0s has stopped and reset itself:
// leftover processes (see EndProcesses), mounts, iptables chains, the pod bridge and routes, cgroups, paths
// and users it created, and changed kernel parameters. Without a recorded state (install stopped before
// recording it) only what is certainly the runtime's is removed. It goes on past failures and
// returns them all.
func Cleanup(ctx context.Context, h host.Host, l datadir.Layout, before HostState, recorded bool) error {
	var errs []error
	keep := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	keep(EndProcesses(ctx, h, l, nil))
	keep(unmountRuntime(ctx, h, l, before, recorded))
	keep(removeChains(ctx, h, before.Chains, before.IPSets))
	if hasLink(h, BridgeName) {
		_, err := h.Run(ctx, host.Command{Name: "ip", Args: []string{"link", "delete", BridgeName}})
		keep(err)
	}
	keep(removePodRoutes(ctx, h, before.PodRoutes))
	keep(removeCgroups(ctx, h, before.Cgroups))
	keep(removeIPSets(ctx, h, before.IPSets)) // after the chains, whose rules refer to them
	if recorded {
		keep(removeNewEmptyNft(ctx, h, before))
		for _, p := range createdPaths {
			if !before.Paths[p] {
				keep(h.RemoveAll(ctx, p))
			}
		}
		users, err := systemUsers(h)
		keep(err)
		for _, u := range k0sUsers {
			if !before.Users[u] && slices.Contains(users, u) {
				_, err := h.Run(ctx, host.Command{Name: "userdel", Args: []string{u}})
				keep(err)
			}
		}
		for _, k := range changedSysctls {
			want, known := before.Sysctls[k]
			if have, err := h.Sysctl(k); known && err == nil && have != want {
				keep(h.SetSysctl(ctx, k, want))
			}
		}
	} else {
		keep(h.RemoveAll(ctx, ContainerdDropInFile))
	}
	return errors.Join(errs...)
}

// hasLink reports whether this network namespace has the link. It reads /proc/net/dev, which
// shows the reader's namespace, where /sys/class/net shows the one sysfs was mounted in.
func hasLink(h host.Reader, name string) bool {
	dev, err := h.ReadFile("/proc/net/dev")
	if err != nil {
		return false
	}
	for line := range strings.SplitSeq(string(dev), "\n") {
		if link, _, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(link) == name {
			return true
		}
	}
	return false
}

// podNetnsPrefix starts the network namespaces containerd makes for pods in /run/netns.
const podNetnsPrefix = "/run/netns/cni-"

// unmountRuntime unmounts, deepest first, what the runtime mounted: under the data dir and the
// paths it creates, except that in /run/netns, which other programs share (ip netns), only the
// pods' namespaces are the runtime's, unless it created /run/netns itself. The data dir itself
// and what was mounted before install stay.
func unmountRuntime(ctx context.Context, h host.Host, l datadir.Layout, before HostState, recorded bool) error {
	mounts, err := host.MountTable(h)
	if err != nil {
		return fmt.Errorf("read mount table: %w", err)
	}
	owned := func(target string) bool {
		switch {
		case target == l.DataDir || slices.Contains(before.Mounts, target):
			return false // the operator's (a data dir on a disk of its own), not the runtime's
		case under(target, "/run/netns"):
			return strings.HasPrefix(target, podNetnsPrefix) || (recorded && !before.Paths["/run/netns"])
		}
		return runtimeArea(l, target)
	}
	var targets []string
	for _, m := range mounts {
		if owned(m.Point) {
			targets = append(targets, m.Point)
		}
	}
	slices.SortFunc(targets, func(a, b string) int { return len(b) - len(a) })
	var errs []error
	for _, t := range slices.Compact(targets) {
		errs = append(errs, h.Unmount(ctx, t))
	}
	return errors.Join(errs...)
}

func under(target, dir string) bool { return target == dir || strings.HasPrefix(target, dir+"/") }

// runtimeArea reports whether path is at or under the data dir or a path the runtime creates.
func runtimeArea(l datadir.Layout, path string) bool {
	return under(path, l.DataDir) || slices.ContainsFunc(createdPaths, func(d string) bool { return under(path, d) })
}

// runtimeChain reports whether an iptables chain belongs to the runtime: kubelet's and
// kube-proxy's KUBE-* chains, the CNI plugins' CNI-* chains and the peering agent's.
func runtimeChain(name string) bool {
	return strings.HasPrefix(name, "KUBE-") || strings.HasPrefix(name, "CNI-") || name == contract.PeeringChain
}

// removeChains deletes the runtime's iptables chains and the rules that jump to them, in both
// address families, leaving every other rule as it is and the runtime-named chains in kept (per
// family) that were there before install.
func removeChains(ctx context.Context, h host.Host, kept map[string][]string, keptSets []string) error {
	var errs []error
	for _, family := range iptablesFamilies {
		saved, err := h.Run(ctx, host.Command{Name: family + "-nft-save"})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		filtered, changed := withoutRuntimeChains(string(saved), kept[family], keptSets)
		if !changed {
			continue
		}
		if _, err := h.Run(ctx, host.Command{Name: family + "-nft-restore", Stdin: []byte(filtered)}); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// runtimeChains lists the runtime-named chains iptables-save output declares, as "table:chain".
func runtimeChains(saved string) []string {
	var chains []string
	table := ""
	for line := range strings.SplitSeq(saved, "\n") {
		if name, ok := strings.CutPrefix(line, "*"); ok {
			table = name
		}
		if fields := strings.Fields(line); strings.HasPrefix(line, ":") && len(fields) > 0 && runtimeChain(strings.TrimPrefix(fields[0], ":")) {
			chains = append(chains, table+":"+strings.TrimPrefix(fields[0], ":"))
		}
	}
	return chains
}

// kubeRouterNodeInterfaceRule is the comment of the rule kube-router puts in FORWARD for the node's
// own interface, which matches neither its sets nor its bridge.
const kubeRouterNodeInterfaceRule = `"allow outbound node port traffic on node interface with which node ip is associated"`

// withoutRuntimeChains filters iptables-save output: the runtime's chains (runtime-named ones not
// in kept) go, with their rules and the rules that jump to them, and so do the pod network's
// rules in other chains: those matching its IP sets (not in keptSets) or its bridge (kube-router
// adds them to FORWARD and POSTROUTING).
func withoutRuntimeChains(saved string, kept, keptSets []string) (string, bool) {
	var out []string
	changed, table := false, ""
	ours := func(chain string) bool { return runtimeChain(chain) && !slices.Contains(kept, table+":"+chain) }
	for _, line := range strings.Split(saved, "\n") {
		if name, ok := strings.CutPrefix(line, "*"); ok {
			table = name
		}
		fields := strings.Fields(line)
		drop := false
		switch {
		case strings.HasPrefix(line, ":") && len(fields) > 0:
			drop = ours(strings.TrimPrefix(fields[0], ":"))
		case strings.HasPrefix(line, "-A ") && len(fields) > 1:
			drop = ours(fields[1]) || strings.Contains(line, kubeRouterNodeInterfaceRule)
			for i, f := range fields {
				if i+1 == len(fields) {
					break
				}
				next := fields[i+1]
				switch f {
				case "-j", "-g", "--jump", "--goto":
					drop = drop || ours(next)
				case "--match-set":
					drop = drop || networkIPSet(next) && !slices.Contains(keptSets, next)
				case "-i", "-o", "--in-interface", "--out-interface":
					drop = drop || next == BridgeName
				}
			}
		}
		if drop {
			changed = true
			continue
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n"), changed
}

// kubepodsCgroups lists the kubelet's cgroups (kubepods, its QoS classes, pods and their
// containers) in every cgroup hierarchy, each parent before its children.
func kubepodsCgroups(r host.Reader) []string {
	var found []string
	var walk func(dir string)
	walk = func(dir string) {
		found = append(found, dir)
		names, _ := r.ReadDir(dir)
		for _, name := range names {
			if ok, _ := r.Exists(filepath.Join(dir, name, "cgroup.procs")); ok {
				walk(filepath.Join(dir, name))
			}
		}
	}
	roots := []string{"/sys/fs/cgroup"}
	if hierarchies, err := r.ReadDir("/sys/fs/cgroup"); err == nil {
		for _, name := range hierarchies {
			root := filepath.Join("/sys/fs/cgroup", name)
			if _, err := r.Readlink(root); err != nil { // cpu -> cpu,cpuacct is the same hierarchy
				roots = append(roots, root)
			}
		}
	}
	for _, root := range roots {
		for _, name := range []string{"kubepods", "kubepods.slice"} {
			if ok, _ := r.Exists(filepath.Join(root, name)); ok {
				walk(filepath.Join(root, name))
			}
		}
	}
	return found
}

// removeCgroups removes the kubepods cgroups the kubelet made, children first, keeping those
// that were there before install.
func removeCgroups(ctx context.Context, h host.Host, kept []string) error {
	var dirs []string
	for _, dir := range slices.Backward(kubepodsCgroups(h)) {
		if !slices.Contains(kept, dir) {
			dirs = append(dirs, dir)
		}
	}
	if len(dirs) == 0 {
		return nil
	}
	// A pod's processes outlive their shim when k0s reset could not stop them (its container
	// runtime did not answer), and a cgroup with a process in it cannot be removed: they end as
	// the runtime's other processes do.
	if err := defaultEnding.end(ctx, h, func() ([]Process, error) { return cgroupProcesses(h, dirs), nil }, nil); err != nil {
		return err
	}
	// A cgroup whose last processes were just killed can refuse removal (EBUSY) for a moment while
	// the kernel lets them go: try again with those left, for a while.
	var last error
	err := wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		left := slices.DeleteFunc(slices.Clone(dirs), func(dir string) bool { ok, _ := h.Exists(dir); return !ok })
		if len(left) == 0 {
			return true, nil
		}
		_, last = h.Run(ctx, host.Command{Name: "rmdir", Args: left})
		return last == nil, nil
	})
	if err != nil && last != nil && ctx.Err() == nil {
		return last
	}
	return err
}

// networkIPSets are the IP sets the pod network names as its own: kube-router's ("kube-router-",
// and its NetworkPolicy's "KUBE-SRC-", "KUBE-DST-"... with "inet6:" in front for IPv6).
func networkIPSets(r host.Reader) ([]string, error) {
	sets, err := r.IPSets()
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(sets, func(name string) bool { return !networkIPSet(name) }), nil
}

func networkIPSet(name string) bool {
	name = strings.TrimPrefix(name, "inet6:")
	return strings.HasPrefix(name, "kube-router-") || strings.HasPrefix(name, "KUBE-")
}

// removeIPSets destroys the pod network's IP sets, keeping those there before install.
func removeIPSets(ctx context.Context, h host.Host, kept []string) error {
	sets, err := networkIPSets(h)
	if err != nil {
		return err
	}
	var errs []error
	for _, name := range sets {
		if !slices.Contains(kept, name) {
			errs = append(errs, h.DestroyIPSet(ctx, name))
		}
	}
	return errors.Join(errs...)
}

// cgroupProcesses lists the live processes in dirs' cgroup.procs, each once (with cgroup v1 a
// process is in one cgroup of each hierarchy).
func cgroupProcesses(r host.Reader, dirs []string) []Process {
	var procs []Process
	for _, dir := range dirs {
		data, _ := r.ReadFile(filepath.Join(dir, "cgroup.procs"))
		for _, field := range strings.Fields(string(data)) {
			pid, err := strconv.Atoi(field)
			if err != nil || slices.ContainsFunc(procs, func(p Process) bool { return p.PID == pid }) || !processAlive(r, pid) {
				continue
			}
			comm, _ := r.ReadFile("/proc/" + field + "/comm")
			procs = append(procs, Process{PID: pid, Comm: strings.TrimSpace(string(comm))})
		}
	}
	return procs
}
