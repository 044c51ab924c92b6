package network

import (
	"net/netip"
	"testing"
)

// FuzzSplit checks that whatever the input, a range is either refused or split into two
// disjoint private halves that exactly cover it.
func FuzzSplit(f *testing.F) {
	for _, s := range []string{"10.244.0.0/16", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "10.0.0.1/16", "fd00::/64", "garbage", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := Split(s)
		if err != nil {
			return
		}
		if !p.CIDR.Addr().Is4() || p.CIDR.Masked() != p.CIDR || !isPrivate(p.CIDR) {
			t.Fatalf("Split(%q) accepted %s", s, p.CIDR)
		}
		if p.PodCIDR.Overlaps(p.ServiceCIDR) {
			t.Fatalf("Split(%q): halves overlap: %+v", s, p)
		}
		for _, half := range []netip.Prefix{p.PodCIDR, p.ServiceCIDR} {
			if half.Bits() != p.CIDR.Bits()+1 || !p.CIDR.Contains(half.Addr()) || half.Masked() != half {
				t.Fatalf("Split(%q): half %s is not inside %s", s, half, p.CIDR)
			}
		}
		if p.PodCIDR.Addr() != p.CIDR.Addr() {
			t.Fatalf("Split(%q): pods %s do not start the range", s, p.PodCIDR)
		}
	})
}

// FuzzExplicit checks that accepted explicit ranges are private, canonical and disjoint.
func FuzzExplicit(f *testing.F) {
	f.Add("10.10.0.0/16", "10.20.0.0/20")
	f.Add("10.10.0.0/16", "10.10.0.0/16")
	f.Add("192.168.0.0/24", "::/0")
	f.Fuzz(func(t *testing.T, pods, svcs string) {
		p, err := Explicit(pods, svcs)
		if err != nil {
			return
		}
		if p.PodCIDR.Overlaps(p.ServiceCIDR) || !isPrivate(p.PodCIDR) || !isPrivate(p.ServiceCIDR) ||
			p.PodCIDR.Masked() != p.PodCIDR || p.ServiceCIDR.Masked() != p.ServiceCIDR {
			t.Fatalf("Explicit(%q, %q) accepted %+v", pods, svcs, p)
		}
	})
}
