package network

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func TestParseRange(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr string
	}{
		{in: "10.244.0.0/16", want: "10.244.0.0/16"},
		{in: " 10.0.0.0/8 ", want: "10.0.0.0/8"},
		{in: "172.16.0.0/12", want: "172.16.0.0/12"},
		{in: "172.31.255.0/24", want: "172.31.255.0/24"},
		{in: "192.168.0.0/16", want: "192.168.0.0/16"},
		{in: "10.0.0.1/16", wantErr: `"10.0.0.1/16" is not a network address; did you mean 10.0.0.0/16?`},
		{in: "10.0.0.0/7", wantErr: "10.0.0.0/7 is not a private range"},
		{in: "172.0.0.0/8", wantErr: "172.0.0.0/8 is not a private range"},
		{in: "172.32.0.0/16", wantErr: "172.32.0.0/16 is not a private range"},
		{in: "8.8.0.0/16", wantErr: "8.8.0.0/16 is not a private range"},
		{in: "100.64.0.0/16", wantErr: "100.64.0.0/16 is not a private range"},
		{in: "0.0.0.0/0", wantErr: "0.0.0.0/0 is not a private range"},
		{in: "fd00::/64", wantErr: `"fd00::/64" is not IPv4`},
		{in: "::ffff:10.0.0.0/112", wantErr: "is not IPv4"},
		{in: "10.0.0.0", wantErr: `"10.0.0.0" is not a CIDR range`},
		{in: "10.0.0.0/33", wantErr: "is not a CIDR range"},
		{in: "010.0.0.0/16", wantErr: "is not a CIDR range"},
		{in: "garbage", wantErr: `"garbage" is not a CIDR range`},
		{in: "", wantErr: `"" is not a CIDR range`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseRange(tt.in)
			checkErr(t, err, tt.wantErr)
			if err == nil && got.String() != tt.want {
				t.Errorf("ParseRange(%q) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
}

func TestSplit(t *testing.T) {
	tests := []struct {
		in                 string
		wantPods, wantSvcs string
		wantErr            string
	}{
		{in: "10.0.0.0/16", wantPods: "10.0.0.0/17", wantSvcs: "10.0.128.0/17"},
		{in: "10.244.0.0/16", wantPods: "10.244.0.0/17", wantSvcs: "10.244.128.0/17"},
		{in: "192.168.0.0/16", wantPods: "192.168.0.0/17", wantSvcs: "192.168.128.0/17"},
		{in: "10.2.0.0/15", wantPods: "10.2.0.0/16", wantSvcs: "10.3.0.0/16"},
		{in: "172.16.0.0/12", wantPods: "172.16.0.0/13", wantSvcs: "172.24.0.0/13"},
		{in: "10.32.0.0/11", wantPods: "10.32.0.0/12", wantSvcs: "10.48.0.0/12"},
		{in: "10.0.0.0/17", wantErr: "10.0.0.0/17 is too small: it must be a /16 or larger"},
		{in: "192.168.1.0/24", wantErr: "is too small"},
		{in: "10.0.0.0/8", wantErr: "10.0.0.0/8 is too large: its service half would exceed Kubernetes' /12 limit"},
		{in: "10.64.0.0/10", wantErr: "is too large"},
		{in: "10.1.0.0/15", wantErr: `did you mean 10.0.0.0/15?`},
		{in: "1.0.0.0/16", wantErr: "not a private range"},
		{in: "fd00::/48", wantErr: "not IPv4"},
		{in: "x/16", wantErr: "not a CIDR range"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			p, err := Split(tt.in)
			checkErr(t, err, tt.wantErr)
			if err != nil {
				return
			}
			if p.PodCIDR.String() != tt.wantPods || p.ServiceCIDR.String() != tt.wantSvcs || p.CIDR.String() != tt.in {
				t.Errorf("Split(%s) = %+v, want pods %s services %s", tt.in, p, tt.wantPods, tt.wantSvcs)
			}
		})
	}
}

func TestExplicit(t *testing.T) {
	tests := []struct {
		name, pods, svcs string
		wantErr          string
	}{
		{name: "disjoint", pods: "10.10.0.0/16", svcs: "10.20.0.0/20"},
		{name: "smallest", pods: "192.168.0.0/24", svcs: "192.168.1.0/24"},
		{name: "largest service", pods: "10.0.0.0/12", svcs: "10.16.0.0/12"},
		{name: "pod only", pods: "10.10.0.0/16", wantErr: "must be given together"},
		{name: "service only", svcs: "10.10.0.0/16", wantErr: "must be given together"},
		{name: "overlap", pods: "10.10.0.0/16", svcs: "10.10.128.0/17", wantErr: "--pod-cidr 10.10.0.0/16 and --service-cidr 10.10.128.0/17 overlap"},
		{name: "same", pods: "10.10.0.0/16", svcs: "10.10.0.0/16", wantErr: "overlap"},
		{name: "pods too small", pods: "10.10.0.0/25", svcs: "10.20.0.0/16", wantErr: "--pod-cidr: 10.10.0.0/25 is too small"},
		{name: "services too large", pods: "10.10.0.0/16", svcs: "10.32.0.0/11", wantErr: "--service-cidr: 10.32.0.0/11 is too large"},
		{name: "services too small", pods: "10.10.0.0/16", svcs: "10.20.0.0/25", wantErr: "--service-cidr: 10.20.0.0/25 is too small"},
		{name: "public pods", pods: "11.0.0.0/16", svcs: "10.20.0.0/16", wantErr: "--pod-cidr: 11.0.0.0/16 is not a private range"},
		{name: "non canonical services", pods: "10.10.0.0/16", svcs: "10.20.0.5/16", wantErr: "--service-cidr: \"10.20.0.5/16\" is not a network address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Explicit(tt.pods, tt.svcs)
			checkErr(t, err, tt.wantErr)
			if err == nil && (p.PodCIDR.String() != tt.pods || p.ServiceCIDR.String() != tt.svcs || p.CIDR.IsValid()) {
				t.Errorf("Explicit = %+v", p)
			}
		})
	}
}

func TestCheckHost(t *testing.T) {
	hostRoutes := []Route{
		{Dst: netip.MustParsePrefix("0.0.0.0/0"), Interface: "eth0"},
		{Dst: netip.MustParsePrefix("192.0.2.0/24"), Interface: "eth0"},
		{Dst: netip.MustParsePrefix("10.0.5.0/24"), Interface: "eth1"},
		{Dst: netip.MustParsePrefix("172.16.0.0/12")}, // a blackhole: no device
		{Dst: netip.MustParsePrefix("10.1.200.7/32"), Interface: "wg0", Address: true},
	}
	tests := []struct {
		name    string
		plan    func() (Plan, error)
		wantErr string
	}{
		{name: "free", plan: func() (Plan, error) { return Split("10.244.0.0/16") }},
		{name: "default route is not a conflict", plan: func() (Plan, error) { return Split("192.168.0.0/16") }},
		{name: "pod half overlaps", plan: func() (Plan, error) { return Split("10.0.0.0/16") },
			wantErr: "pod range 10.0.0.0/17 overlaps host route 10.0.5.0/24 on eth1; choose a free range, e.g. --cidr 10.2.0.0/16"},
		{name: "service half overlaps an address", plan: func() (Plan, error) { return Split("10.1.0.0/16") },
			wantErr: "service range 10.1.128.0/17 overlaps host address 10.1.200.7/32 on wg0; choose a free range, e.g. --cidr 10.2.0.0/16"},
		{name: "device-less route", plan: func() (Plan, error) { return Split("172.20.0.0/16") },
			wantErr: "pod range 172.20.0.0/17 overlaps host route 172.16.0.0/12; choose a free range, e.g. --cidr 10.2.0.0/16"},
		{name: "explicit pods", plan: func() (Plan, error) { return Explicit("10.0.0.0/16", "10.2.0.0/16") },
			wantErr: "pod range 10.0.0.0/16 overlaps host route 10.0.5.0/24 on eth1; choose a free range, e.g. --pod-cidr 10.3.0.0/16"},
		{name: "explicit services", plan: func() (Plan, error) { return Explicit("10.2.0.0/16", "10.0.5.0/24") },
			wantErr: "service range 10.0.5.0/24 overlaps host route 10.0.5.0/24 on eth1; choose a free range, e.g. --service-cidr 10.0.0.0/24"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := tt.plan()
			if err != nil {
				t.Fatal(err)
			}
			checkErr(t, p.CheckHost(hostRoutes), tt.wantErr)
		})
	}
}

func TestFreeRange(t *testing.T) {
	all10 := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	tests := []struct {
		name   string
		bits   int
		taken  []netip.Prefix
		want   string
		wantOK bool
	}{
		{name: "empty host", bits: 16, want: "10.0.0.0/16", wantOK: true},
		{name: "10/8 taken", bits: 16, taken: all10, want: "172.16.0.0/16", wantOK: true},
		{name: "only 192.168 left", bits: 16, taken: append(all10, netip.MustParsePrefix("172.16.0.0/12")), want: "192.168.0.0/16", wantOK: true},
		{name: "too large for 192.168", bits: 15, taken: append(all10, netip.MustParsePrefix("172.16.0.0/12"))},
		{name: "everything taken", bits: 24, taken: append(all10, netip.MustParsePrefix("172.16.0.0/12"), netip.MustParsePrefix("192.168.0.0/16"))},
		{name: "last /24 of 192.168", bits: 24, taken: append(all10, netip.MustParsePrefix("172.16.0.0/12"), netip.MustParsePrefix("192.168.0.0/17"), netip.MustParsePrefix("192.168.128.0/18"), netip.MustParsePrefix("192.168.192.0/19"), netip.MustParsePrefix("192.168.224.0/20"), netip.MustParsePrefix("192.168.240.0/21"), netip.MustParsePrefix("192.168.248.0/22"), netip.MustParsePrefix("192.168.252.0/23"), netip.MustParsePrefix("192.168.254.0/24")), want: "192.168.255.0/24", wantOK: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := FreeRange(tt.bits, tt.taken)
			if ok != tt.wantOK || (ok && got.String() != tt.want) {
				t.Errorf("FreeRange(%d) = %s, %v; want %s, %v", tt.bits, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

type fakeNetwork struct {
	routes []Route
	ifaces []Interface
	err    error
}

func (f fakeNetwork) Routes() ([]Route, error)         { return f.routes, f.err }
func (f fakeNetwork) Interfaces() ([]Interface, error) { return f.ifaces, f.err }

func TestSelectNode(t *testing.T) {
	ifaces := []Interface{
		{Name: "lo", Up: true, Loopback: true, Addrs: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/8")}},
		{Name: "eth0", Up: true, Addrs: []netip.Prefix{netip.MustParsePrefix("192.0.2.2/24")}},
		{Name: "eth1", Up: true, Addrs: []netip.Prefix{netip.MustParsePrefix("198.51.100.9/24"), netip.MustParsePrefix("198.51.100.10/24")}},
		{Name: "eth2", Up: false, Addrs: []netip.Prefix{netip.MustParsePrefix("203.0.113.1/24")}},
		{Name: "eth3", Up: true},
	}
	defaults := []Route{
		{Dst: netip.MustParsePrefix("0.0.0.0/0"), Interface: "eth0", Metric: 100},
		{Dst: netip.MustParsePrefix("0.0.0.0/0"), Interface: "eth1", Metric: 50},
	}
	tests := []struct {
		name    string
		net     fakeNetwork
		iface   string
		own     []string
		want    string
		wantErr string
	}{
		{name: "lowest metric default", net: fakeNetwork{routes: defaults, ifaces: ifaces}, want: "eth1 198.51.100.9"},
		{name: "named", net: fakeNetwork{routes: defaults, ifaces: ifaces}, iface: "eth0", want: "eth0 192.0.2.2"},
		{name: "missing", net: fakeNetwork{ifaces: ifaces}, iface: "eth9", wantErr: `network interface "eth9" does not exist; choose one of: eth0, eth1`},
		{name: "down", net: fakeNetwork{ifaces: ifaces}, iface: "eth2", wantErr: `network interface "eth2" is down`},
		{name: "no address", net: fakeNetwork{ifaces: ifaces}, iface: "eth3", wantErr: `network interface "eth3" has no IPv4 address`},
		{name: "loopback", net: fakeNetwork{ifaces: ifaces}, iface: "lo", wantErr: `network interface "lo" is the loopback`},
		{name: "no default route", net: fakeNetwork{ifaces: ifaces}, wantErr: "the host has no default route to pick the node address from, and 2 interfaces could carry the node address (eth0, eth1); pass --network-interface NAME"},
		{name: "no default route, one interface", net: fakeNetwork{ifaces: []Interface{ifaces[0], ifaces[1], ifaces[3]}}, want: "eth0 192.0.2.2"},
		{name: "no default route, one interface besides the own", net: fakeNetwork{ifaces: ifaces[:3]}, own: []string{"eth1"}, want: "eth0 192.0.2.2"},
		{name: "no default route, no interface", net: fakeNetwork{ifaces: []Interface{ifaces[0], ifaces[3]}}, wantErr: "the host has no default route to pick the node address from, and no interface is up with an IPv4 address; pass --network-interface NAME"},
		{name: "read error", net: fakeNetwork{err: errors.New("boom")}, wantErr: "read host interfaces: boom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := SelectNode(tt.net, tt.iface, tt.own...)
			checkErr(t, err, tt.wantErr)
			if err == nil && n.Interface+" "+n.Address.String() != tt.want {
				t.Errorf("SelectNode = %+v, want %s", n, tt.want)
			}
		})
	}
}

func TestTakenIncludesInterfaceSubnets(t *testing.T) {
	n := fakeNetwork{
		ifaces: []Interface{{Name: "eth5", Up: true, Addrs: []netip.Prefix{netip.MustParsePrefix("10.9.8.7/16")}}},
	}
	taken, err := Taken(n)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := Split("10.8.0.0/15")
	checkErr(t, p.CheckHost(taken), "service range 10.9.0.0/16 overlaps host address 10.9.0.0/16 on eth5")
}

// TestKernel reads this machine's real routing table: every host has a loopback, whose local
// route lives in the local table, which a main-table-only reader would miss.
func TestKernel(t *testing.T) {
	routes, err := Kernel{}.Routes()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range routes {
		if r.Dst == netip.MustParsePrefix("127.0.0.0/8") && r.Interface == "lo" {
			found = true
		}
	}
	if !found {
		t.Errorf("no 127.0.0.0/8 route on lo among %v", routes)
	}
	ifaces, err := Kernel{}.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range ifaces {
		if i.Loopback && len(i.Addrs) > 0 && i.Addrs[0] == netip.MustParsePrefix("127.0.0.1/8") {
			return
		}
	}
	t.Errorf("no loopback with 127.0.0.1/8 among %+v", ifaces)
}

func checkErr(t *testing.T, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Fatalf("unexpected error: %v", err)
	case want != "" && err == nil:
		t.Fatalf("no error, want one containing %q", want)
	case want != "" && !strings.Contains(err.Error(), want):
		t.Fatalf("error %q does not contain %q", err, want)
	case err != nil && strings.Contains(err.Error(), "\n"):
		t.Fatalf("error spans several lines: %q", err)
	}
}

func TestSinkAndOwnRoutes(t *testing.T) {
	p, _ := Split("10.20.0.0/16")
	sink := Route{Dst: netip.MustParsePrefix("10.20.128.0/17"), Interface: "guard0", EmptyBridge: true}
	if err := p.CheckHost([]Route{sink}); err != nil {
		t.Errorf("an empty bridge sinking the service range is a conflict: %v", err)
	}
	for _, r := range []Route{
		{Dst: netip.MustParsePrefix("10.20.128.0/17"), Interface: "br1"},                     // a bridge with ports: real traffic
		{Dst: netip.MustParsePrefix("10.20.0.0/17"), Interface: "guard0", EmptyBridge: true}, // a sink over the pod range
		{Dst: netip.MustParsePrefix("10.20.0.0/16"), Interface: "guard0", EmptyBridge: true}, // wider than the service range
	} {
		if p.CheckHost([]Route{r}) == nil {
			t.Errorf("%+v is not a conflict", r)
		}
	}
	n := fakeNetwork{
		routes: []Route{{Dst: netip.MustParsePrefix("10.20.0.0/24"), Interface: "mc-br0"}, {Dst: netip.MustParsePrefix("0.0.0.0/0")}},
		ifaces: []Interface{{Name: "mc-br0", Up: true, Addrs: []netip.Prefix{netip.MustParsePrefix("10.20.0.1/24")}}},
	}
	taken, err := Taken(n, "mc-br0")
	if err != nil || len(taken) != 1 || !isDefault(taken[0].Dst) {
		t.Errorf("Taken without the own bridge = %v, %v", taken, err)
	}
}

func TestFreeRangeIn(t *testing.T) {
	space := netip.MustParsePrefix("172.16.0.0/12")
	taken := []netip.Prefix{netip.MustParsePrefix("172.16.0.0/24"), netip.MustParsePrefix("172.16.1.128/25")}
	if got, ok := FreeRangeIn(space, 24, taken); !ok || got != netip.MustParsePrefix("172.16.2.0/24") {
		t.Errorf("FreeRangeIn = %v, %v; want 172.16.2.0/24", got, ok)
	}
	if _, ok := FreeRangeIn(netip.MustParsePrefix("172.16.0.0/24"), 24, taken); ok {
		t.Error("a taken space had room")
	}
	if _, ok := FreeRangeIn(space, 8, nil); ok {
		t.Error("a range larger than its space")
	}
}
