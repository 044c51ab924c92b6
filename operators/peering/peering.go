// Package peering keeps, on one node, the pod network's traffic to registered clusters' pods
// unmasqueraded. kube-router routes the peers' pod ranges (learned over BGP from their nodes), but
// masquerades whatever its pods send outside its own cluster's ranges: the peers would see the
// node's address instead of the pod's, and their internode NetworkPolicy, which admits the other
// clusters' database pods by address, could not tell a database pod from any other. A chain in
// the nat table, jumped to from POSTROUTING ahead of kube-router's rule, accepts the peers' pod
// ranges untranslated.
package peering

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/datastax/mission-control/internal/contract"
	"github.com/datastax/mission-control/internal/host"
)

// Chain is the nat chain of the peers' pod ranges.
const Chain = contract.PeeringChain

// iptables is the nat table's command, waiting for the xtables lock kube-router and kube-proxy
// also take.
func iptables(args ...string) host.Command {
	return host.Command{Name: "iptables", Args: append([]string{"-w", "5", "-t", "nat"}, args...)}
}

// Sync makes the node's nat table send traffic from own (this cluster's pod range) to peers
// untranslated, and nothing more: without peers the chain and its jump are removed. It reports
// whether it changed anything.
func Sync(ctx context.Context, h host.Host, own netip.Prefix, peers []netip.Prefix) (bool, error) {
	jump := []string{"POSTROUTING", "-s", own.String(), "-j", Chain}
	have, exists, err := rules(ctx, h)
	if err != nil {
		return false, err
	}
	if len(peers) == 0 {
		if !exists {
			return false, nil
		}
		// Every jump to the chain goes, whatever range it was made for.
		for _, args := range jumps(ctx, h) {
			if _, err := h.Run(ctx, iptables(append([]string{"-D"}, args...)...)); err != nil {
				return false, fmt.Errorf("remove the jump to %s: %w", Chain, err)
			}
		}
		for _, step := range [][]string{{"-F", Chain}, {"-X", Chain}} {
			if _, err := h.Run(ctx, iptables(step...)); err != nil {
				return false, fmt.Errorf("remove chain %s: %w", Chain, err)
			}
		}
		return true, nil
	}
	want := make([]string, len(peers))
	for i, p := range peers {
		want[i] = fmt.Sprintf("-A %s -d %s -j ACCEPT", Chain, p.Masked())
	}
	changed := false
	if !exists {
		if _, err := h.Run(ctx, iptables("-N", Chain)); err != nil {
			return false, fmt.Errorf("create chain %s: %w", Chain, err)
		}
		changed = true
	}
	if !slices.Equal(have, want) {
		if _, err := h.Run(ctx, iptables("-F", Chain)); err != nil {
			return false, fmt.Errorf("flush chain %s: %w", Chain, err)
		}
		for _, p := range peers {
			if _, err := h.Run(ctx, iptables("-A", Chain, "-d", p.Masked().String(), "-j", "ACCEPT")); err != nil {
				return false, fmt.Errorf("accept %s in chain %s: %w", p, Chain, err)
			}
		}
		changed = true
	}
	// kube-router appends its masquerade rule to POSTROUTING: the jump goes first.
	if _, err := h.Run(ctx, iptables(append([]string{"-C"}, jump...)...)); err != nil {
		if _, err := h.Run(ctx, iptables("-I", "POSTROUTING", "1", "-s", own.String(), "-j", Chain)); err != nil {
			return false, fmt.Errorf("jump to %s from POSTROUTING: %w", Chain, err)
		}
		changed = true
	}
	return changed, nil
}

// rules lists the chain's rules as iptables -S prints them, and whether the chain exists.
func rules(ctx context.Context, h host.Host) ([]string, bool, error) {
	out, err := h.Run(ctx, iptables("-S", Chain))
	if err != nil {
		if strings.Contains(string(out), "No chain") || strings.Contains(string(out), "does not exist") {
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("list chain %s: %w", Chain, err)
	}
	var have []string
	for line := range strings.Lines(string(out)) {
		if line = strings.TrimSpace(line); strings.HasPrefix(line, "-A ") {
			have = append(have, line)
		}
	}
	return have, true, nil
}

// jumps are POSTROUTING's rules that jump to the chain, as arguments to -D.
func jumps(ctx context.Context, h host.Host) [][]string {
	out, err := h.Run(ctx, iptables("-S", "POSTROUTING"))
	if err != nil {
		return nil
	}
	var found [][]string
	for line := range strings.Lines(string(out)) {
		fields := strings.Fields(line)
		if len(fields) > 2 && fields[0] == "-A" && slices.Equal(fields[len(fields)-2:], []string{"-j", Chain}) {
			found = append(found, fields[1:])
		}
	}
	return found
}

// Ranges reads the Peers ConfigMap as mounted in dir (a file per key; kubelet's own entries,
// named ..*, aside) and returns the peers' pod ranges, sorted. A missing dir means no peers.
func Ranges(h host.Reader, dir string) ([]netip.Prefix, error) {
	names, err := h.ReadDir(dir)
	if err != nil {
		if exists, _ := h.Exists(dir); !exists {
			return nil, nil
		}
		return nil, fmt.Errorf("read the peers in %s: %w", dir, err)
	}
	data := map[string]string{}
	for _, name := range names {
		if strings.HasPrefix(name, "..") {
			continue
		}
		b, err := h.ReadFile(dir + "/" + name)
		if err != nil {
			return nil, fmt.Errorf("read peer %s: %w", name, err)
		}
		data[name] = string(b)
	}
	peers, err := contract.ParsePeers(data)
	if err != nil {
		return nil, err
	}
	var ranges []netip.Prefix
	for _, p := range peers {
		ranges = append(ranges, p.PodCIDR.Masked())
	}
	slices.SortFunc(ranges, netip.Prefix.Compare)
	return slices.Compact(ranges), nil
}
