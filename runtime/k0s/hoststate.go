package k0s

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"

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
}

// RecordHostState reads what reset must restore. Listing nftables' tables takes a command, the
// only one it runs, and it changes nothing.
func RecordHostState(ctx context.Context, h host.Host) (HostState, error) {
	s := HostState{Sysctls: map[string]string{}, Paths: map[string]bool{}, Users: map[string]bool{}}
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
	if s.NftTables, err = nftTables(ctx, h); err != nil {
		return s, err
	}
	return s, nil
}

// nftTables lists the host's nftables tables as "family name".
func nftTables(ctx context.Context, h host.Host) ([]string, error) {
	out, err := h.Run(ctx, host.Command{Name: "nft", Args: []string{"list", "tables"}})
	if err != nil {
		return nil, fmt.Errorf("list nftables tables: %w", err)
	}
	var tables []string
	for line := range strings.SplitSeq(string(out), "\n") {
		if t, ok := strings.CutPrefix(strings.TrimSpace(line), "table "); ok {
			tables = append(tables, t)
		}
	}
	return tables, nil
}

// removeNewEmptyTables deletes the nftables tables iptables-nft made for the runtime (they did
// not exist before install) once they hold no rule: another program's rules keep a table.
func removeNewEmptyTables(ctx context.Context, h host.Host, before []string) error {
	now, err := nftTables(ctx, h)
	if err != nil {
		return err
	}
	var errs []error
	for _, t := range now {
		if slices.Contains(before, t) {
			continue
		}
		family, name, _ := strings.Cut(t, " ")
		listing, err := h.Run(ctx, host.Command{Name: "nft", Args: []string{"-a", "list", "table", family, name}})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !hasRules(string(listing)) {
			_, err := h.Run(ctx, host.Command{Name: "nft", Args: []string{"delete", "table", family, name}})
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// hasRules reports whether an `nft -a list table` listing holds a rule: a line with a handle
// that declares neither a table nor a chain.
func hasRules(listing string) bool {
	for line := range strings.SplitSeq(listing, "\n") {
		line = strings.TrimSpace(line)
		if strings.Contains(line, "# handle") && !strings.HasPrefix(line, "table ") && !strings.HasPrefix(line, "chain ") {
			return true
		}
	}
	return false
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
func LoadHostState(r host.Reader, l Layout) (s HostState, ok bool, err error) {
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
// leftover processes (see EndProcesses), mounts, iptables chains, the pod bridge, cgroups, paths
// and users it created, and changed kernel parameters. Without a recorded state (install stopped before
// recording it) only what is certainly the runtime's is removed. It goes on past failures and
// returns them all.
func Cleanup(ctx context.Context, h host.Host, l Layout, before HostState, recorded bool) error {
	var errs []error
	keep := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	keep(EndProcesses(ctx, h, l, nil))
	keep(unmountRuntime(ctx, h, l, before, recorded))
	keep(removeChains(ctx, h))
	if hasLink(h, BridgeName) {
		_, err := h.Run(ctx, host.Command{Name: "ip", Args: []string{"link", "delete", BridgeName}})
		keep(err)
	}
	keep(removeCgroups(ctx, h))
	if recorded {
		keep(removeNewEmptyTables(ctx, h, before.NftTables))
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
// pods' namespaces are the runtime's, unless it created /run/netns itself.
func unmountRuntime(ctx context.Context, h host.Host, l Layout, before HostState, recorded bool) error {
	mounts, err := host.MountTable(h)
	if err != nil {
		return fmt.Errorf("read mount table: %w", err)
	}
	under := func(target, dir string) bool { return target == dir || strings.HasPrefix(target, dir+"/") }
	owned := func(target string) bool {
		if under(target, "/run/netns") {
			return strings.HasPrefix(target, podNetnsPrefix) || (recorded && !before.Paths["/run/netns"])
		}
		return under(target, l.DataDir) || slices.ContainsFunc(createdPaths, func(d string) bool { return under(target, d) })
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

// runtimeChain reports whether an iptables chain belongs to the runtime: kubelet's and
// kube-proxy's KUBE-* chains and the CNI plugins' CNI-* chains.
func runtimeChain(name string) bool {
	return strings.HasPrefix(name, "KUBE-") || strings.HasPrefix(name, "CNI-")
}

// removeChains deletes the runtime's iptables chains and the rules that jump to them, in both
// address families, leaving every other rule as it is.
func removeChains(ctx context.Context, h host.Host) error {
	var errs []error
	for _, family := range []string{"iptables", "ip6tables"} {
		saved, err := h.Run(ctx, host.Command{Name: family + "-nft-save"})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		filtered, changed := withoutRuntimeChains(string(saved))
		if !changed {
			continue
		}
		if _, err := h.Run(ctx, host.Command{Name: family + "-nft-restore", Stdin: []byte(filtered)}); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// withoutRuntimeChains filters iptables-save output.
func withoutRuntimeChains(saved string) (string, bool) {
	var out []string
	changed := false
	for _, line := range strings.Split(saved, "\n") {
		fields := strings.Fields(line)
		drop := false
		switch {
		case strings.HasPrefix(line, ":") && len(fields) > 0:
			drop = runtimeChain(strings.TrimPrefix(fields[0], ":"))
		case strings.HasPrefix(line, "-A ") && len(fields) > 1:
			drop = runtimeChain(fields[1])
			for i, f := range fields {
				if (f == "-j" || f == "-g" || f == "--jump" || f == "--goto") && i+1 < len(fields) && runtimeChain(fields[i+1]) {
					drop = true
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

// removeCgroups removes the kubepods cgroups the kubelet made, in every hierarchy, leaves first.
func removeCgroups(ctx context.Context, h host.Host) error {
	var errs []error
	roots := []string{"/sys/fs/cgroup"}
	if hierarchies, err := h.ReadDir("/sys/fs/cgroup"); err == nil {
		for _, name := range hierarchies {
			roots = append(roots, filepath.Join("/sys/fs/cgroup", name))
		}
	}
	for _, root := range roots {
		for _, name := range []string{"kubepods", "kubepods.slice"} {
			dir := filepath.Join(root, name)
			if ok, _ := h.Exists(dir); !ok {
				continue
			}
			_, err := h.Run(ctx, host.Command{Name: "find", Args: []string{dir, "-depth", "-type", "d", "-exec", "rmdir", "{}", "+"}})
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
