package k0s

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/datastax/mission-control/internal/datadir"
	"github.com/datastax/mission-control/internal/host"
)

// ContainerdDropIn is merged by k0s into its containerd CRI configuration: CNI plugins and
// configuration from the data dir and, on hosts where this process lacks CAP_SYS_RESOURCE (some
// container and VM sandboxes), restrict_oom_score_adj so that runc does not try to lower
// oom_score_adj below containerd's own, which fails there for every pod sandbox.
func ContainerdDropIn(l datadir.Layout, restrictOOMScoreAdj bool) []byte {
	var b strings.Builder
	b.WriteString("# Written by mission-control install; removed by reset.\nversion = 2\n\n")
	b.WriteString("[plugins.\"io.containerd.grpc.v1.cri\"]\n")
	fmt.Fprintf(&b, "  restrict_oom_score_adj = %t\n\n", restrictOOMScoreAdj)
	b.WriteString("[plugins.\"io.containerd.grpc.v1.cri\".cni]\n")
	fmt.Fprintf(&b, "  bin_dir = %q\n  conf_dir = %q\n", l.CNIBinDir(), l.CNIConfDir())
	return []byte(b.String())
}

// capSysResource is CAP_SYS_RESOURCE's bit in the capability sets of /proc/<pid>/status.
const capSysResource = 24

// HasCapSysResource reports whether this process may lower oom_score_adj, which runc does for
// every pod sandbox unless containerd restricts it.
func HasCapSysResource(r host.Reader) (bool, error) {
	status, err := r.ReadFile("/proc/self/status")
	if err != nil {
		return false, fmt.Errorf("read capabilities: %w", err)
	}
	for line := range strings.SplitSeq(string(status), "\n") {
		if hex, ok := strings.CutPrefix(line, "CapEff:"); ok {
			caps, err := strconv.ParseUint(strings.TrimSpace(hex), 16, 64)
			if err != nil {
				return false, fmt.Errorf("parse capabilities %q: %w", line, err)
			}
			return caps&(1<<capSysResource) != 0, nil
		}
	}
	return false, errors.New("read capabilities: no CapEff line in /proc/self/status")
}

// xtablesDirs are where distributions install iptables' multi-call binaries.
var xtablesDirs = []string{"/usr/sbin", "/sbin", "/usr/bin", "/bin"}

// FindXtables returns the host's xtables-nft-multi and xtables-legacy-multi. k0s insists on
// finding both in its bin dir, but it is told to use nft, so where the host has no legacy
// iptables (RHEL 9 and its rebuilds) the nft binary stands in for it.
func FindXtables(r host.Reader) (nft, legacy string, err error) {
	for _, dir := range xtablesDirs {
		if nft == "" {
			if ok, _ := r.Exists(dir + "/xtables-nft-multi"); ok {
				nft = dir + "/xtables-nft-multi"
			}
		}
		if legacy == "" {
			if ok, _ := r.Exists(dir + "/xtables-legacy-multi"); ok {
				legacy = dir + "/xtables-legacy-multi"
			}
		}
	}
	if nft == "" {
		return "", "", errors.New("iptables with the nftables backend (xtables-nft-multi) is not installed: apt-get install iptables, or dnf install iptables-nft")
	}
	if legacy == "" {
		legacy = nft
	}
	return nft, legacy, nil
}

// DisabledComponents are k0s components mission-control does not run: the update prober would
// call k0s' update server, metrics-server has no image here, and konnectivity has none either
// (the API server reaches the kubelets directly: every node's address is routable from it).
var DisabledComponents = []string{"update-prober", "metrics-server", "konnectivity-server"}

// Roles of a node.
const (
	RoleController = "controller" // the API, etcd and a worker: install's first node
	RoleWorker     = "worker"     // a worker only: a joined node
)

// NodeCommand is the k0s process the runtime service runs for the role: a controller (the first
// node, or one that joined: then with its join token) with its own worker, untainted, that others
// can join (not k0s' --single, which refuses joins); a joined worker runs k0s' worker with its
// token.
func NodeCommand(l datadir.Layout, role string, joined bool) host.Command {
	common := []string{
		"--data-dir", l.K0sDataDir(),
		"--status-socket", l.StatusSocket(),
		"--iptables-mode", "nft", // k0s would guess, and pick legacy if anything ever touched it
	}
	if role == RoleWorker {
		return host.Command{Name: l.K0s(), Args: append([]string{"worker", "--token-file", l.JoinTokenFile()}, common...)}
	}
	args := []string{"controller", "--enable-worker", "--no-taints", "--config", l.ConfigFile()}
	if joined { // k0s uses the token only until its etcd member has data
		args = append(args, "--token-file", l.JoinTokenFile())
	}
	return host.Command{Name: l.K0s(), Args: append(append(args, common...), "--disable-components", strings.Join(DisabledComponents, ","))}
}
