package network

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"os"
	"syscall"
)

// Kernel reads the host's routes over netlink and its interfaces from the kernel.
type Kernel struct{}

var _ HostNetwork = Kernel{}

const (
	rtTableMain = 254
	rtaTable    = 15 // RTA_TABLE: the 32-bit table id, authoritative over rtmsg.rtm_table
)

// Routes dumps every IPv4 route of every table (main, local, policy tables), so that addresses
// only reachable through policy routing are seen too. Default routes are kept from the main
// table only: they choose the node interface.
func (Kernel) Routes() ([]Route, error) {
	rib, err := syscall.NetlinkRIB(syscall.RTM_GETROUTE, syscall.AF_INET)
	if err != nil {
		return nil, fmt.Errorf("netlink route dump: %w", err)
	}
	msgs, err := syscall.ParseNetlinkMessage(rib)
	if err != nil {
		return nil, fmt.Errorf("parse netlink route dump: %w", err)
	}
	names := interfaceNames()
	var routes []Route
	for i := range msgs {
		m := &msgs[i]
		if m.Header.Type != syscall.RTM_NEWROUTE || len(m.Data) < syscall.SizeofRtMsg {
			continue
		}
		family, dstLen, table := m.Data[0], int(m.Data[1]), uint32(m.Data[4])
		if family != syscall.AF_INET {
			continue
		}
		attrs, err := syscall.ParseNetlinkRouteAttr(m)
		if err != nil {
			return nil, fmt.Errorf("parse netlink route attributes: %w", err)
		}
		dst, r := netip.IPv4Unspecified(), Route{}
		for _, a := range attrs {
			switch {
			case a.Attr.Type == syscall.RTA_DST && len(a.Value) == 4:
				dst = netip.AddrFrom4([4]byte(a.Value))
			case a.Attr.Type == syscall.RTA_OIF && len(a.Value) == 4:
				r.Interface = names[int(binary.NativeEndian.Uint32(a.Value))]
			case a.Attr.Type == syscall.RTA_PRIORITY && len(a.Value) == 4:
				r.Metric = int(binary.NativeEndian.Uint32(a.Value))
			case a.Attr.Type == rtaTable && len(a.Value) == 4:
				table = binary.NativeEndian.Uint32(a.Value)
			}
		}
		if dstLen == 0 && table != rtTableMain {
			continue
		}
		if r.Dst, err = dst.Prefix(dstLen); err != nil {
			return nil, fmt.Errorf("netlink route %s/%d: %w", dst, dstLen, err)
		}
		r.EmptyBridge = r.Interface != "" && isEmptyBridge(r.Interface)
		routes = append(routes, r)
	}
	return routes, nil
}

// isEmptyBridge reports whether the interface is a bridge without ports.
func isEmptyBridge(name string) bool {
	if _, err := os.Stat("/sys/class/net/" + name + "/bridge"); err != nil {
		return false
	}
	ports, err := os.ReadDir("/sys/class/net/" + name + "/brif")
	return err == nil && len(ports) == 0
}

func interfaceNames() map[int]string {
	names := map[int]string{}
	ifaces, err := net.Interfaces()
	if err != nil {
		return names // routes are still reported, without interface names
	}
	for _, i := range ifaces {
		names[i.Index] = i.Name
	}
	return names
}

// Interfaces lists the host's interfaces with their IPv4 addresses.
func (Kernel) Interfaces() ([]Interface, error) {
	ifaces, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("list interfaces: %w", err)
	}
	out := make([]Interface, 0, len(ifaces))
	for _, i := range ifaces {
		addrs, err := i.Addrs()
		if err != nil {
			return nil, fmt.Errorf("addresses of %s: %w", i.Name, err)
		}
		iface := Interface{Name: i.Name, Up: i.Flags&net.FlagUp != 0, Loopback: i.Flags&net.FlagLoopback != 0}
		for _, a := range addrs {
			ipnet, ok := a.(*net.IPNet)
			if !ok || ipnet.IP.To4() == nil {
				continue
			}
			ip, _ := netip.AddrFromSlice(ipnet.IP.To4())
			bits, total := ipnet.Mask.Size()
			if total == 8*net.IPv6len {
				bits -= 96 // an IPv4 address carried with a 16-byte mask
			}
			iface.Addrs = append(iface.Addrs, netip.PrefixFrom(ip, bits))
		}
		out = append(out, iface)
	}
	return out, nil
}
