package network

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// Interface is one of the host's network interfaces with its IPv4 addresses.
type Interface struct {
	Name     string
	Up       bool
	Loopback bool
	Addrs    []netip.Prefix // address/bits as configured, e.g. 192.0.2.2/24
}

// HostNetwork reads the host's network state. Implementations never change anything.
type HostNetwork interface {
	// Routes returns every IPv4 kernel route, default routes of the main table included.
	Routes() ([]Route, error)
	// Interfaces returns the host's interfaces in index order.
	Interfaces() ([]Interface, error)
}

// Taken lists everything on the host a cluster range must not overlap: kernel routes and the
// subnets of interface addresses (an address configured without a prefix route still counts).
// Routes and addresses on the own devices (the cluster's own bridge, when an install resumes) are
// left out.
func Taken(h HostNetwork, own ...string) ([]Route, error) {
	all, err := h.Routes()
	if err != nil {
		return nil, fmt.Errorf("read host routes: %w", err)
	}
	ifaces, err := h.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("read host interfaces: %w", err)
	}
	for _, i := range ifaces {
		for _, a := range i.Addrs {
			all = append(all, Route{Dst: a.Masked(), Interface: i.Name, Address: true})
		}
	}
	var routes []Route
	for _, r := range all {
		if r.Interface == "" || !slices.Contains(own, r.Interface) {
			routes = append(routes, r)
		}
	}
	return routes, nil
}

// Node is the interface and address the cluster's node advertises.
type Node struct {
	Interface string
	Address   netip.Addr
}

// SelectNode picks the node address: the first IPv4 address of the named interface or, when name
// is empty, of the interface that carries the default route, else of the host's only interface
// that could (an isolated host may have no default route), leaving out the own devices (the
// runtime's bridge when an install runs again).
func SelectNode(h HostNetwork, name string, own ...string) (Node, error) {
	ifaces, err := h.Interfaces()
	if err != nil {
		return Node{}, fmt.Errorf("read host interfaces: %w", err)
	}
	if name == "" {
		routes, err := h.Routes()
		if err != nil {
			return Node{}, fmt.Errorf("read host routes: %w", err)
		}
		if name, err = defaultInterface(routes); err != nil {
			usable := slices.DeleteFunc(slices.Clone(ifaces), func(i Interface) bool {
				return !i.Up || i.Loopback || len(i.Addrs) == 0 || slices.Contains(own, i.Name)
			})
			if len(usable) != 1 {
				return Node{}, fmt.Errorf("the host has no default route to pick the node address from, and %s; pass --network-interface NAME", usableCount(len(usable), ifaces))
			}
			name = usable[0].Name
		}
	}
	i := slices.IndexFunc(ifaces, func(i Interface) bool { return i.Name == name })
	if i < 0 {
		return Node{}, fmt.Errorf("network interface %q does not exist; choose one of: %s", name, candidates(ifaces))
	}
	iface := ifaces[i]
	switch {
	case iface.Loopback:
		return Node{}, fmt.Errorf("network interface %q is the loopback; choose one of: %s", name, candidates(ifaces))
	case !iface.Up:
		return Node{}, fmt.Errorf("network interface %q is down; bring it up or choose one of: %s", name, candidates(ifaces))
	case len(iface.Addrs) == 0:
		return Node{}, fmt.Errorf("network interface %q has no IPv4 address; choose one of: %s", name, candidates(ifaces))
	}
	return Node{Interface: name, Address: iface.Addrs[0].Addr()}, nil
}

func defaultInterface(routes []Route) (string, error) {
	best, metric := "", 0
	for _, r := range routes {
		if isDefault(r.Dst) && r.Interface != "" && (best == "" || r.Metric < metric) {
			best, metric = r.Interface, r.Metric
		}
	}
	if best == "" {
		return "", errors.New("no default route")
	}
	return best, nil
}

// usableCount says how many interfaces could carry the node address, as SelectNode's error does.
func usableCount(n int, ifaces []Interface) string {
	if n == 0 {
		return "no interface is up with an IPv4 address"
	}
	return fmt.Sprintf("%d interfaces could carry the node address (%s)", n, candidates(ifaces))
}

// candidates lists the interfaces that could carry the node address.
func candidates(ifaces []Interface) string {
	var names []string
	for _, i := range ifaces {
		if i.Up && !i.Loopback && len(i.Addrs) > 0 {
			names = append(names, i.Name)
		}
	}
	if len(names) == 0 {
		return "(none: no interface is up with an IPv4 address)"
	}
	return strings.Join(names, ", ")
}
