package network

import (
	"fmt"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Kernel reads the host's routes and interfaces over netlink, in this process's network
// namespace.
type Kernel struct{}

var _ HostNetwork = Kernel{}

// Routes lists every IPv4 route of every table (main, local, policy tables), so that addresses
// only reachable through policy routing are seen too. Default routes are kept from the main
// table only: they choose the node interface.
func (Kernel) Routes() ([]Route, error) {
	links, err := netlink.LinkList()
	if err != nil {
		return nil, fmt.Errorf("netlink link dump: %w", err)
	}
	names := map[int]string{}
	for _, l := range links {
		names[l.Attrs().Index] = l.Attrs().Name
	}
	list, err := netlink.RouteListFiltered(netlink.FAMILY_V4, &netlink.Route{Table: unix.RT_TABLE_UNSPEC}, netlink.RT_FILTER_TABLE)
	if err != nil {
		return nil, fmt.Errorf("netlink route dump: %w", err)
	}
	routes := make([]Route, 0, len(list))
	for _, nr := range list {
		dst := netip.PrefixFrom(netip.IPv4Unspecified(), 0)
		if nr.Dst != nil {
			ip, ok := netip.AddrFromSlice(nr.Dst.IP.To4())
			bits, _ := nr.Dst.Mask.Size()
			if !ok {
				return nil, fmt.Errorf("netlink route %s: not IPv4", nr.Dst)
			}
			dst = netip.PrefixFrom(ip, bits)
		}
		if dst.Bits() == 0 && nr.Table != unix.RT_TABLE_MAIN {
			continue
		}
		r := Route{Dst: dst, Interface: names[nr.LinkIndex], Metric: nr.Priority}
		r.EmptyBridge = r.Interface != "" && isEmptyBridge(links, nr.LinkIndex)
		routes = append(routes, r)
	}
	return routes, nil
}

// isEmptyBridge reports whether link index is a bridge that no link is enslaved to.
func isEmptyBridge(links []netlink.Link, index int) bool {
	bridge := false
	for _, l := range links {
		switch {
		case l.Attrs().Index == index:
			bridge = l.Type() == "bridge"
		case l.Attrs().MasterIndex == index:
			return false
		}
	}
	return bridge
}

// Interfaces lists the host's interfaces, in index order, with their IPv4 addresses.
func (Kernel) Interfaces() ([]Interface, error) {
	links, err := netlink.LinkList()
	if err != nil {
		return nil, fmt.Errorf("list interfaces: %w", err)
	}
	out := make([]Interface, 0, len(links))
	for _, l := range links {
		a := l.Attrs()
		addrs, err := netlink.AddrList(l, netlink.FAMILY_V4)
		if err != nil {
			return nil, fmt.Errorf("addresses of %s: %w", a.Name, err)
		}
		iface := Interface{Name: a.Name, Up: a.Flags&net.FlagUp != 0, Loopback: a.Flags&net.FlagLoopback != 0}
		for _, addr := range addrs {
			ip, ok := netip.AddrFromSlice(addr.IP.To4())
			if !ok {
				continue
			}
			bits, _ := addr.Mask.Size()
			iface.Addrs = append(iface.Addrs, netip.PrefixFrom(ip, bits))
		}
		out = append(out, iface)
	}
	return out, nil
}
