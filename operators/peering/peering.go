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
	nat, err := readNat(ctx, h)
	if err != nil {
		return false, err
	}
	if len(peers) == 0 {
		if !nat.exists {
			return false, nil
		}
		// Every jump to the chain goes, whatever range it was made for.
		for _, jump := range nat.jumps {
			if _, err := h.Run(ctx, iptables(append([]string{"-D", "POSTROUTING"}, jump...)...)); err != nil {
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
	if !nat.exists {
		if _, err := h.Run(ctx, iptables("-N", Chain)); err != nil {
			return false, fmt.Errorf("create chain %s: %w", Chain, err)
		}
		changed = true
	}
	if !slices.Equal(nat.rules, want) {
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
	jump := []string{"-s", own.Masked().String(), "-j", Chain}
	if !slices.ContainsFunc(nat.jumps, func(j []string) bool { return slices.Equal(j, jump) }) {
		if _, err := h.Run(ctx, iptables(append([]string{"-I", "POSTROUTING", "1"}, jump...)...)); err != nil {
			return false, fmt.Errorf("jump to %s from POSTROUTING: %w", Chain, err)
		}
		changed = true
	}
	return changed, nil
}

// natState is what the nat table holds of the chain.
type natState struct {
	exists bool
	// rules are the chain's rules as iptables-save prints them; jumps are POSTROUTING's rules
	// that jump to it, as their match and target arguments.
	rules []string
	jumps [][]string
}

// readNat reads the chain and the jumps to it from iptables-save, which lists a table whole (the
// nft backend's -S answers "incompatible", not "no chain", for a chain that does not exist).
func readNat(ctx context.Context, h host.Host) (natState, error) {
	out, err := h.Run(ctx, host.Command{Name: "iptables-save", Args: []string{"-t", "nat"}})
	if err != nil {
		return natState{}, fmt.Errorf("read the nat table: %w", err)
	}
	var nat natState
	for line := range strings.Lines(string(out)) {
		line = strings.TrimSpace(line)
		fields := strings.Fields(line)
		switch {
		case len(fields) > 0 && fields[0] == ":"+Chain:
			nat.exists = true
		case strings.HasPrefix(line, "-A "+Chain+" "):
			nat.rules = append(nat.rules, line)
		case len(fields) > 2 && fields[0] == "-A" && fields[1] == "POSTROUTING" && slices.Equal(fields[len(fields)-2:], []string{"-j", Chain}):
			nat.jumps = append(nat.jumps, fields[2:])
		}
	}
	return nat, nil
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

// Withdraw deletes the node's routes (kube-router's protocol, 17) into ranges: those of clusters
// no longer registered. kube-router learned them from their nodes and keeps what it learned across
// its restarts; after a deregister nothing else takes them away.
func Withdraw(ctx context.Context, h host.Host, ranges []netip.Prefix) (int, error) {
	if len(ranges) == 0 {
		return 0, nil
	}
	out, err := h.Run(ctx, host.Command{Name: "ip", Args: []string{"-4", "route", "show", "proto", "17"}})
	if err != nil {
		return 0, fmt.Errorf("list the pod network's routes: %w", err)
	}
	removed := 0
	for line := range strings.Lines(string(out)) {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		dst, err := netip.ParsePrefix(fields[0])
		if err != nil {
			continue
		}
		if !slices.ContainsFunc(ranges, func(r netip.Prefix) bool { return r.Contains(dst.Addr()) && r.Bits() <= dst.Bits() }) {
			continue
		}
		if _, err := h.Run(ctx, host.Command{Name: "ip", Args: []string{"-4", "route", "del", dst.String(), "proto", "17"}}); err != nil {
			return removed, fmt.Errorf("remove the route to %s: %w", dst, err)
		}
		removed++
	}
	return removed, nil
}
