// Package testhost holds what the end-to-end tests and the vm-tests suites need on a host under
// test, besides mission-control itself: a snapshot of everything reset must restore, a guard
// that keeps a runtime's traffic on the machine, and an isolated network namespace for
// air-gapped installs. hack/testhost makes it a command for the suites.
package testhost

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"log"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"github.com/datastax/mission-control/internal/datadir"
	"github.com/datastax/mission-control/internal/host"
)

// Snapshot is what reset must leave as install found it, one sorted list of lines per aspect.
type Snapshot map[string][]string

// volatile files change on their own while tests run; they are not the runtime's residue.
var volatile = regexp.MustCompile(`^/(run/(systemd|user|utmp|sshd|lock|containers|libpod|crun)|var/lib/(apt|dpkg|systemd|dhcp|logrotate|containers)|var/cache|etc/(ld\.so\.cache|mtab|resolv\.conf))`)

// runtimeProcess names processes the runtime runs.
var runtimeProcess = regexp.MustCompile(`^(k0s|kube-[a-z-]+|kubelet|etcd|containerd.*|runc|coredns|pause|mission-control)$`)

// InNetns is a command that runs name with args in the network namespace netns (a path such as
// /proc/PID/ns/net; "" is the caller's). It enters the network namespace only: ip netns exec
// would also mount a sysfs of its own over /sys, hiding /sys/fs/cgroup from the runtime.
func InNetns(netns, name string, args ...string) (string, []string) {
	if netns == "" {
		return name, args
	}
	return "nsenter", append([]string{"--net=" + netns, "--", name}, args...)
}

// TakeSnapshot reads processes (the runtime's, by command, and any in a pod's cgroup), mounts, links, routes, iptables and nftables rulesets, IP sets, systemd
// units, users, kernel parameters, cgroups and the files under /etc, /run and /var/lib, each with
// its mode, a file's size and a link's target (the container engine's own state aside). Network
// state (links, routes, rules, network sysctls) is netns's.
func TakeSnapshot(ctx context.Context, netns string) (Snapshot, error) {
	s := Snapshot{}
	var failed error
	run := func(name string, args ...string) string {
		name, args = InNetns(netns, name, args...)
		out, err := (host.System{}).Run(ctx, host.Command{Name: name, Args: args})
		if err != nil && failed == nil {
			failed = fmt.Errorf("snapshot: %w", err)
		}
		return string(out)
	}
	read := func(path string) string {
		b, err := os.ReadFile(path)
		if err != nil && failed == nil {
			failed = fmt.Errorf("snapshot: %w", err)
		}
		return string(b)
	}
	for _, l := range lines(run("ps", "-eo", "stat=,comm=")) {
		state, comm, _ := strings.Cut(l, " ")
		if !strings.HasPrefix(state, "Z") && runtimeProcess.MatchString(strings.TrimSpace(comm)) { // zombies are gone, awaiting their reaper
			s["processes"] = append(s["processes"], strings.TrimSpace(comm))
		}
	}
	s["processes"] = append(s["processes"], podProcesses()...)
	for _, l := range lines(read("/proc/self/mountinfo")) {
		f := strings.Fields(l)
		s["mounts"] = append(s["mounts"], f[4]+" "+f[len(f)-3])
	}
	sort.Strings(s["mounts"])
	for _, l := range lines(run("ip", "-o", "link", "show")) {
		s["links"] = append(s["links"], strings.Fields(l)[1])
	}
	s["routes"] = lines(run("ip", "route", "show", "table", "all") + run("ip", "-6", "route", "show", "table", "all"))
	counters := regexp.MustCompile(`\[\d+:\d+\]`)
	s["iptables"] = lines(counters.ReplaceAllString(run("iptables-nft-save")+run("ip6tables-nft-save"), ""))
	sets, err := ipSets(netns)
	if err != nil && failed == nil {
		failed = fmt.Errorf("snapshot: %w", err)
	}
	s["ipsets"] = sets
	s["nftables"] = lines(regexp.MustCompile(`counter packets \d+ bytes \d+`).ReplaceAllString(run("nft", "list", "ruleset"), "counter"))
	s["users"] = lines(read("/etc/passwd") + read("/etc/group"))
	for _, dir := range []string{"/etc/systemd/system", "/lib/systemd/system"} {
		s["units"] = append(s["units"], listFiles(dir, 3)...)
	}
	for _, dir := range []string{"/etc", "/run", "/var/lib"} {
		s["files"] = append(s["files"], describeFiles(dir)...)
	}
	// Read by a shell in netns: /proc/sys/net shows the reader's network namespace.
	const readSysctls = `for f in /proc/sys/net/ipv4/* /proc/sys/net/ipv4/conf/all/* /proc/sys/net/ipv4/conf/default/* \
		/proc/sys/net/ipv6/conf/all/* /proc/sys/net/ipv6/conf/default/* /proc/sys/net/bridge/* /proc/sys/vm/* /proc/sys/kernel/keys/*; do
		case "$f" in *stat*) continue;; esac
		[ -f "$f" ] && v=$(cat "$f" 2>/dev/null) && echo "$f=$v"
	done; true`
	s["sysctls"] = strings.Split(strings.TrimSpace(run("sh", "-c", readSysctls)), "\n")
	for _, k := range []string{"kernel/panic", "kernel/panic_on_oops", "net/netfilter/nf_conntrack_max",
		"net/netfilter/nf_conntrack_tcp_timeout_established", "net/netfilter/nf_conntrack_tcp_timeout_close_wait"} {
		if v, err := os.ReadFile("/proc/sys/" + k); err == nil {
			s["sysctls"] = append(s["sysctls"], k+"="+strings.TrimSpace(string(v)))
		}
	}
	if hierarchies, err := os.ReadDir("/sys/fs/cgroup"); err == nil {
		for _, h := range hierarchies {
			for _, p := range listFiles(filepath.Join("/sys/fs/cgroup", h.Name()), 2) {
				if !strings.Contains(p, "/system.slice/") && !strings.Contains(p, "/user.slice/") {
					s["cgroups"] = append(s["cgroups"], p)
				}
			}
		}
	}
	return s, failed
}

// ipSets lists the IP sets of the network namespace at path (this process's when empty), by
// netlink: the hosts need no ipset command.
func ipSets(path string) ([]string, error) {
	ns, err := netns.Get()
	if path != "" {
		ns, err = netns.GetFromPath(path)
	}
	if err != nil {
		return nil, fmt.Errorf("open network namespace %q: %w", path, err)
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		return nil, err
	}
	defer h.Close()
	prev := log.Writer() // netlink logs the attributes of newer kernels it cannot parse
	log.SetOutput(io.Discard)
	sets, err := h.IpsetListAll()
	log.SetOutput(prev)
	if err != nil {
		return nil, fmt.Errorf("list IP sets: %w", err)
	}
	var names []string
	for _, set := range sets {
		names = append(names, set.SetName)
	}
	sort.Strings(names)
	return names, nil
}

// podProcesses names the processes in pods' cgroups (kubepods), whatever their command: the
// containers of a runtime that are still running.
func podProcesses() []string {
	var out []string
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		cgroup, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cgroup"))
		if err != nil || !strings.Contains(string(cgroup), "/kubepods") {
			continue
		}
		stat, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if i := strings.LastIndexByte(string(stat), ')'); i > 0 && i+2 < len(stat) && stat[i+2] == 'Z' {
			continue // gone, awaiting its reaper
		}
		comm, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "comm"))
		out = append(out, "in a pod: "+strings.TrimSpace(string(comm)))
	}
	sort.Strings(out)
	return out
}

// lines are text's non-empty, non-comment lines, trimmed and sorted.
func lines(text string) []string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	sort.Strings(out)
	return out
}

// describeFiles describes everything under dir, whatever its depth, but the volatile: each entry's
// path and mode, a regular file's size and a link's target.
func describeFiles(dir string) []string {
	var out []string
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return nil // vanished while walking
		case volatile.MatchString(p):
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		line := p + " " + info.Mode().String()
		switch {
		case info.Mode().IsRegular():
			line += fmt.Sprintf(" %d bytes", info.Size())
		case info.Mode()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			line += " -> " + target
		}
		out = append(out, line)
		return nil
	})
	sort.Strings(out)
	return out
}

// listFiles lists directories and files under dir, to the given depth.
func listFiles(dir string, depth int) []string {
	var out []string
	base := strings.Count(dir, "/")
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // vanished while walking
		}
		if strings.Count(p, "/")-base > depth {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() && p != dir && strings.HasPrefix(p, "/sys/") {
			out = append(out, p+"/")
		} else if !strings.HasPrefix(p, "/sys/") {
			out = append(out, p)
		}
		return nil
	})
	sort.Strings(out)
	return out
}

// WithoutRuntimeState is the snapshot without the files a running runtime keeps changing: its own
// data, logs and run state under the data dir (pods, etcd, containerd, logs), the CNI's leases and
// its /run state. It compares a host while the runtime runs (e.g. around a refused second install);
// the data dir's install records stay compared.
func (s Snapshot) WithoutRuntimeState(dataDir string) Snapshot {
	l := datadir.Layout{DataDir: dataDir}
	live := []string{l.K0sDataDir(), l.LogDir(), l.RunDir(), l.CNIStateDir(), l.StorageDir(), "/run/k0s", "/run/containerd", "/run/netns", "/var/lib/cni"}
	out := maps.Clone(s)
	out["files"] = slices.DeleteFunc(slices.Clone(s["files"]), func(line string) bool {
		return slices.ContainsFunc(live, func(dir string) bool { return strings.HasPrefix(line, dir+"/") })
	})
	return out
}

// Diff lists what differs between two snapshots, aspect by aspect.
func (before Snapshot) Diff(after Snapshot) []string {
	var out []string
	keys := make([]string, 0, len(before))
	for k := range before {
		keys = append(keys, k)
	}
	for k := range after {
		if _, ok := before[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	set := func(lines []string) map[string]bool {
		m := make(map[string]bool, len(lines))
		for _, l := range lines {
			m[l] = true
		}
		return m
	}
	for _, k := range slices.Compact(keys) {
		was, is := set(before[k]), set(after[k])
		for _, l := range before[k] {
			if !is[l] {
				out = append(out, fmt.Sprintf("%s: gone:  %s", k, l))
			}
		}
		for _, l := range after[k] {
			if !was[l] {
				out = append(out, fmt.Sprintf("%s: added: %s", k, l))
			}
		}
	}
	return out
}
