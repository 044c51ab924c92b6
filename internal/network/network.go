// Package network plans the embedded cluster's pod and service ranges and checks them against the
// host: a range that overlaps a host route or interface would make pods unreachable or hijack real
// traffic, so it is refused before anything is installed.
package network

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// DefaultCIDR is the range install uses when no --cidr is given.
const DefaultCIDR = "10.244.0.0/16"

// Size limits. The service range is capped by kube-apiserver 1.33, which refuses a
// --service-cluster-ip-range wider than /12 while the dual-write allocator is on (its default);
// a --cidr is split in halves, so it may be at most /11.
const (
	smallestCIDRBits    = 16 // --cidr must be at least this large
	largestCIDRBits     = 11 // ... and at most this large
	largestServiceBits  = 12
	smallestServiceBits = 24 // room for the platform's Services
	smallestPodBits     = 24 // the node's pod subnet is a /24
)

var privateRanges = []netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.168.0.0/16"),
}

// Plan is the pair of ranges the cluster uses. CIDR is the range they were split from, or invalid
// when both were given explicitly.
type Plan struct {
	CIDR        netip.Prefix
	PodCIDR     netip.Prefix
	ServiceCIDR netip.Prefix
}

// ParseRange parses s as a canonical, private (RFC 1918) IPv4 range.
func ParseRange(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(strings.TrimSpace(s))
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not a CIDR range; write it as address/bits, e.g. %s", s, DefaultCIDR)
	}
	if !p.Addr().Is4() {
		return netip.Prefix{}, fmt.Errorf("%q is not IPv4; only IPv4 ranges are supported, e.g. %s", s, DefaultCIDR)
	}
	if p.Masked() != p {
		return netip.Prefix{}, fmt.Errorf("%q is not a network address; did you mean %s?", s, p.Masked())
	}
	if !isPrivate(p) {
		return netip.Prefix{}, fmt.Errorf("%s is not a private range; use one inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16", p)
	}
	return p, nil
}

func isPrivate(p netip.Prefix) bool {
	for _, r := range privateRanges {
		if r.Bits() <= p.Bits() && r.Contains(p.Addr()) {
			return true
		}
	}
	return false
}

// Split plans the ranges from one --cidr: pods get the first half, services the second.
func Split(cidr string) (Plan, error) {
	p, err := ParseRange(cidr)
	if err != nil {
		return Plan{}, err
	}
	if p.Bits() > smallestCIDRBits {
		return Plan{}, fmt.Errorf("%s is too small: it must be a /%d or larger, so that pods and services each get half", p, smallestCIDRBits)
	}
	if p.Bits() < largestCIDRBits {
		return Plan{}, fmt.Errorf("%s is too large: its service half would exceed Kubernetes' /%d limit; use a /%d to /%d, or set --pod-cidr and --service-cidr", p, largestServiceBits, smallestCIDRBits, largestCIDRBits)
	}
	pods, services := halves(p)
	return Plan{CIDR: p, PodCIDR: pods, ServiceCIDR: services}, nil
}

func halves(p netip.Prefix) (netip.Prefix, netip.Prefix) {
	bits := p.Bits() + 1
	first := netip.PrefixFrom(p.Addr(), bits)
	return first, netip.PrefixFrom(next(first), bits)
}

// next is the first address after p.
func next(p netip.Prefix) netip.Addr {
	a := p.Addr().As4()
	v := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
	v += 1 << (32 - p.Bits())
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// Explicit plans the ranges from --pod-cidr and --service-cidr.
func Explicit(podCIDR, serviceCIDR string) (Plan, error) {
	if podCIDR == "" || serviceCIDR == "" {
		return Plan{}, errors.New("--pod-cidr and --service-cidr must be given together")
	}
	pods, err := ParseRange(podCIDR)
	if err != nil {
		return Plan{}, fmt.Errorf("--pod-cidr: %w", err)
	}
	if pods.Bits() > smallestPodBits {
		return Plan{}, fmt.Errorf("--pod-cidr: %s is too small: the node's pod subnet is a /%d, so use a /%d or larger", pods, smallestPodBits, smallestPodBits)
	}
	services, err := ParseRange(serviceCIDR)
	if err != nil {
		return Plan{}, fmt.Errorf("--service-cidr: %w", err)
	}
	if services.Bits() < largestServiceBits {
		return Plan{}, fmt.Errorf("--service-cidr: %s is too large: Kubernetes allows at most a /%d", services, largestServiceBits)
	}
	if services.Bits() > smallestServiceBits {
		return Plan{}, fmt.Errorf("--service-cidr: %s is too small: use a /%d or larger", services, smallestServiceBits)
	}
	if pods.Overlaps(services) {
		return Plan{}, fmt.Errorf("--pod-cidr %s and --service-cidr %s overlap; choose two disjoint ranges", pods, services)
	}
	return Plan{PodCIDR: pods, ServiceCIDR: services}, nil
}

// Route is a destination the host already reaches: a kernel route or an interface's subnet.
type Route struct {
	Dst       netip.Prefix
	Interface string // empty for routes without an output device (blackhole, unreachable)
	Address   bool   // true for an interface address, false for a kernel route
	Metric    int    // route priority; lower wins among default routes
	// EmptyBridge: the route leads into a bridge with no ports, where packets go nowhere. Such a
	// route over the service range is a safety sink (it keeps service traffic that was not
	// translated to a pod on the host), not a conflict.
	EmptyBridge bool
}

func (r Route) String() string {
	what := "route " + r.Dst.String()
	if r.Address {
		what = "address " + r.Dst.String()
	}
	if r.Interface != "" {
		what += " on " + r.Interface
	}
	return what
}

// ConflictError is a cluster range that overlaps something the host already routes.
type ConflictError struct {
	Range      string // "pod" or "service"
	CIDR       netip.Prefix
	Route      Route
	Suggestion string // what to do instead, e.g. "choose a free range, e.g. --cidr 10.2.0.0/16"
}

// Problem is the conflict without the suggestion.
func (e *ConflictError) Problem() string {
	return fmt.Sprintf("%s range %s overlaps host %s", e.Range, e.CIDR, e.Route)
}

func (e *ConflictError) Error() string { return e.Problem() + "; " + e.Suggestion }

// CheckHost refuses a plan whose ranges overlap any of the host's routes or addresses with a
// *ConflictError naming the first conflict and suggesting a free range of the same size.
func (p Plan) CheckHost(routes []Route) error {
	for _, r := range []struct {
		name string
		cidr netip.Prefix
	}{{"pod", p.PodCIDR}, {"service", p.ServiceCIDR}} {
		for _, route := range routes {
			if isDefault(route.Dst) || !r.cidr.Overlaps(route.Dst) {
				continue
			}
			if r.name == "service" && route.EmptyBridge && r.cidr.Contains(route.Dst.Addr()) && r.cidr.Bits() <= route.Dst.Bits() {
				continue
			}
			return &ConflictError{Range: r.name, CIDR: r.cidr, Route: route, Suggestion: p.suggestion(r.name, routes)}
		}
	}
	return nil
}

func isDefault(p netip.Prefix) bool { return p.Bits() == 0 }

func (p Plan) suggestion(rangeName string, routes []Route) string {
	taken := make([]netip.Prefix, 0, len(routes)+1)
	for _, r := range routes {
		if !isDefault(r.Dst) {
			taken = append(taken, r.Dst)
		}
	}
	flag, bits := "--cidr", p.CIDR.Bits()
	switch {
	case p.CIDR.IsValid():
	case rangeName == "pod":
		flag, bits = "--pod-cidr", p.PodCIDR.Bits()
		taken = append(taken, p.ServiceCIDR)
	default:
		flag, bits = "--service-cidr", p.ServiceCIDR.Bits()
		taken = append(taken, p.PodCIDR)
	}
	free, ok := FreeRange(bits, taken)
	if !ok {
		return "no free private range of that size is left on this host; free one or use a smaller range"
	}
	return fmt.Sprintf("choose a free range, e.g. %s %s", flag, free)
}

// FreeRange returns the first private range of the given size that overlaps none of taken.
func FreeRange(bits int, taken []netip.Prefix) (netip.Prefix, bool) {
	for _, space := range privateRanges {
		if free, ok := FreeRangeIn(space, bits, taken); ok {
			return free, true
		}
	}
	return netip.Prefix{}, false
}

// FreeRangeIn returns the first range of the given size within space that overlaps none of taken.
func FreeRangeIn(space netip.Prefix, bits int, taken []netip.Prefix) (netip.Prefix, bool) {
	if bits < space.Bits() || bits > 32 {
		return netip.Prefix{}, false
	}
	for c := netip.PrefixFrom(space.Masked().Addr(), bits); c.IsValid() && space.Contains(c.Addr()); c = netip.PrefixFrom(next(c), bits) {
		if !overlapsAny(c, taken) {
			return c, true
		}
		if next(c) == netip.AddrFrom4([4]byte{}) { // wrapped past 255.255.255.255
			break
		}
	}
	return netip.Prefix{}, false
}

func overlapsAny(c netip.Prefix, taken []netip.Prefix) bool {
	for _, t := range taken {
		if c.Overlaps(t) {
			return true
		}
	}
	return false
}
