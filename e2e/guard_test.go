//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/datastax/mission-control/installer/host"
	"github.com/datastax/mission-control/installer/network"
)

// netGuard keeps a runtime under test from sending anything off this machine: the service range
// is routed into an empty local bridge (so service traffic kube-proxy has not translated stays
// here), and an nftables table of its own drops pod and service traffic towards the uplink.
// Its own table and base chains cannot be pre-empted by the rules kube-proxy inserts. The guard
// is removed when the test ends.
type netGuard struct {
	pods, services netip.Prefix
	uplink         string
}

const (
	guardBridge = "mc-guard0"
	guardTable  = "mc_test_guard"
)

func startNetGuard(t testing.TB, cidr string) *netGuard {
	t.Helper()
	plan, err := network.Split(cidr)
	if err != nil {
		t.Fatal(err)
	}
	node, err := network.SelectNode(network.Kernel{}, "")
	if err != nil {
		t.Fatalf("find the uplink: %v", err)
	}
	g := &netGuard{pods: plan.PodCIDR, services: plan.ServiceCIDR, uplink: node.Interface}
	t.Cleanup(func() { g.stop(t) })
	rules := fmt.Sprintf(`table inet %[1]s {
	chain forward {
		type filter hook forward priority -300; policy accept;
		ip saddr %[2]s oifname != "mc-br0" drop
		ip saddr %[3]s oifname %[4]q drop
		ip daddr %[3]s oifname %[4]q drop
	}
	chain output {
		type filter hook output priority 0; policy accept;
		ip daddr %[2]s oifname %[4]q drop
		ip daddr %[3]s oifname %[4]q drop
	}
}
`, guardTable, g.pods, g.services, g.uplink)
	mustRun(t, host.Command{Name: "ip", Args: []string{"link", "add", guardBridge, "type", "bridge"}})
	// No IPv6 link-local address: it would appear (with its route) at an unpredictable moment.
	if err := (host.System{}).SetSysctl(context.Background(), "net.ipv6.conf."+guardBridge+".disable_ipv6", "1"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []host.Command{
		{Name: "ip", Args: []string{"link", "set", guardBridge, "up"}},
		{Name: "ip", Args: []string{"route", "replace", g.services.String(), "dev", guardBridge}},
		{Name: "nft", Args: []string{"-f", "-"}, Stdin: []byte(rules)},
	} {
		mustRun(t, c)
	}
	return g
}

func (g *netGuard) stop(t testing.TB) {
	for _, c := range []host.Command{
		{Name: "nft", Args: []string{"delete", "table", "inet", guardTable}},
		{Name: "ip", Args: []string{"link", "delete", guardBridge}}, // takes its route with it
	} {
		if out, err := (host.System{}).Run(context.Background(), c); err != nil && !strings.Contains(string(out), "No such") && !strings.Contains(string(out), "Cannot find") {
			t.Errorf("remove the network guard: %v", err)
		}
	}
}

func mustRun(t testing.TB, c host.Command) string {
	t.Helper()
	out, err := (host.System{}).Run(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}
