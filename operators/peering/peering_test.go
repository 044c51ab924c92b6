package peering

import (
	"context"
	"errors"
	"maps"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/datastax/mission-control/internal/host"
	"github.com/datastax/mission-control/internal/host/hosttest"
)

// natTable answers the nat table's iptables commands from its own chains, as iptables does
// (iptables-save -t nat; -N, -F, -X, -A, -I, -D), so Sync's result can be read off the table.
type natTable struct {
	*host.Recorder
	chains map[string][]string // chain -> rule specs without "-A chain"
	runs   int
}

func newNatTable() *natTable {
	return &natTable{Recorder: host.NewRecorder(nil), chains: map[string][]string{
		"POSTROUTING": {"-m set --match-set kube-router-pod-subnets src -j MASQUERADE"},
	}}
}

func (n *natTable) Run(_ context.Context, c host.Command) ([]byte, error) {
	n.runs++
	if c.Name == "iptables-save" {
		out := "*nat\n"
		for _, chain := range slices.Sorted(maps.Keys(n.chains)) {
			out += ":" + chain + " - [0:0]\n"
		}
		for _, chain := range slices.Sorted(maps.Keys(n.chains)) {
			for _, r := range n.chains[chain] {
				out += "-A " + chain + " " + r + "\n"
			}
		}
		return []byte(out + "COMMIT\n"), nil
	}
	args := c.Args[4:] // -w 5 -t nat
	chain, rule := args[1], ""
	fail := func(msg string) ([]byte, error) {
		return []byte(msg + "\n"), &host.ExecError{Cmd: c.String(), Output: []byte(msg), Err: errors.New("exit status 1")}
	}
	rules, exists := n.chains[chain]
	if !exists && args[0] != "-N" {
		return fail("iptables: No chain/target/match by that name.")
	}
	switch args[0] {
	case "-I":
		rule = strings.Join(args[3:], " ")
	case "-A", "-D":
		rule = strings.Join(args[2:], " ")
	}
	switch args[0] {
	case "-N":
		n.chains[chain] = nil
	case "-F":
		n.chains[chain] = nil
	case "-X":
		delete(n.chains, chain)
	case "-A":
		n.chains[chain] = append(rules, rule)
	case "-I":
		n.chains[chain] = append([]string{rule}, rules...)
	case "-D":
		i := slices.Index(rules, rule)
		if i < 0 {
			return fail("iptables: Bad rule (does a matching rule exist in that chain?).")
		}
		n.chains[chain] = slices.Delete(rules, i, i+1)
	}
	return nil, nil
}

// TestSync: peers' ranges are accepted untranslated ahead of kube-router's masquerade, a second
// sync changes nothing, a changed list replaces the rules, and no peers removes it all.
func TestSync(t *testing.T) {
	ctx := context.Background()
	nat := newNatTable()
	own := netip.MustParsePrefix("10.10.0.0/17")
	west, north := netip.MustParsePrefix("10.20.0.0/17"), netip.MustParsePrefix("10.30.0.0/17")

	changed, err := Sync(ctx, nat, own, []netip.Prefix{west})
	if err != nil || !changed {
		t.Fatalf("first sync: changed %v, %v", changed, err)
	}
	wantPost := []string{"-s 10.10.0.0/17 -j MC-PEER-PODS", "-m set --match-set kube-router-pod-subnets src -j MASQUERADE"}
	if !slices.Equal(nat.chains["POSTROUTING"], wantPost) || !slices.Equal(nat.chains[Chain], []string{"-d 10.20.0.0/17 -j ACCEPT"}) {
		t.Fatalf("nat table after the first sync: %q", nat.chains)
	}
	if changed, err := Sync(ctx, nat, own, []netip.Prefix{west}); err != nil || changed {
		t.Fatalf("second sync: changed %v, %v", changed, err)
	}
	if changed, err := Sync(ctx, nat, own, []netip.Prefix{west, north}); err != nil || !changed ||
		!slices.Equal(nat.chains[Chain], []string{"-d 10.20.0.0/17 -j ACCEPT", "-d 10.30.0.0/17 -j ACCEPT"}) {
		t.Fatalf("another peer: changed %v, %v, chain %q", changed, err, nat.chains[Chain])
	}
	if !slices.Equal(nat.chains["POSTROUTING"], wantPost) {
		t.Errorf("POSTROUTING after another peer: %q", nat.chains["POSTROUTING"])
	}
	if changed, err := Sync(ctx, nat, own, nil); err != nil || !changed {
		t.Fatalf("no peers: changed %v, %v", changed, err)
	}
	if _, ok := nat.chains[Chain]; ok || !slices.Equal(nat.chains["POSTROUTING"], wantPost[1:]) {
		t.Errorf("no peers left %q", nat.chains)
	}
	if changed, err := Sync(ctx, nat, own, nil); err != nil || changed {
		t.Errorf("no peers again: changed %v, %v", changed, err)
	}
}

// TestRanges: the mounted ConfigMap's keys are peers; kubelet's ..data entries are not; a peer
// that is not JSON with a pod range is an error naming it; no mount is no peers.
func TestRanges(t *testing.T) {
	h, dir := host.System{}, t.TempDir()+"/peers"
	if got, err := Ranges(h, dir); err != nil || got != nil {
		t.Fatalf("no mount: %v, %v", got, err)
	}
	if err := os.MkdirAll(dir+"/..data", 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string]string{
		"dp-west":     `{"podCIDR":"10.20.0.0/17","nodes":["172.16.0.3"]}`,
		"dp-north":    `{"podCIDR":"10.30.0.0/17","nodes":["172.16.0.4"]}`,
		"..data/west": `not json`,
	} {
		if err := os.WriteFile(dir+"/"+name, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := Ranges(h, dir)
	if err != nil || len(got) != 2 || got[0].String() != "10.20.0.0/17" || got[1].String() != "10.30.0.0/17" {
		t.Fatalf("ranges = %v, %v", got, err)
	}
	if err := os.WriteFile(dir+"/dp-south", []byte(`{"nodes":[]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Ranges(h, dir); err == nil || !strings.Contains(err.Error(), "dp-south") {
		t.Errorf("a peer without a range: %v", err)
	}
}

// TestWithdraw deletes only the routes into the ranges given: a deregistered cluster's node
// shares, not this cluster's nodes' nor another peer's.
func TestWithdraw(t *testing.T) {
	h := hosttest.Stubbed{Recorder: host.NewRecorder(nil), Out: map[string]string{
		"ip -4 route show proto 17": "10.10.1.0/24 via 172.16.0.3 dev eth0 proto 17\n" +
			"10.20.0.0/24 via 172.16.0.4 dev eth0 proto 17\n10.20.1.0/24 via 172.16.0.5 dev eth0 proto 17\n" +
			"10.30.0.0/24 via 172.16.0.6 dev eth0 proto 17\n",
	}}
	n, err := Withdraw(context.Background(), h, []netip.Prefix{netip.MustParsePrefix("10.20.0.0/17")})
	if err != nil || n != 2 {
		t.Fatalf("withdrew %d, %v", n, err)
	}
	var ran []string
	for _, op := range h.Ops() {
		ran = append(ran, op.String())
	}
	want := []string{"run ip -4 route show proto 17", "run ip -4 route del 10.20.0.0/24 proto 17", "run ip -4 route del 10.20.1.0/24 proto 17"}
	if !slices.Equal(ran, want) {
		t.Errorf("ops %q, want %q", ran, want)
	}
	if n, err := Withdraw(context.Background(), h, nil); n != 0 || err != nil {
		t.Errorf("no ranges: %d, %v", n, err)
	}
}
