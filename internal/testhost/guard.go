package testhost

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/datastax/mission-control/internal/host"
	"github.com/datastax/mission-control/internal/network"
)

// The guard keeps a runtime under test from sending anything off this machine: the service range
// is routed into an empty local bridge (so service traffic kube-proxy has not translated stays
// here), and an nftables table of its own drops pod and service traffic towards the uplink. Its
// own table and base chains cannot be pre-empted by the rules kube-proxy inserts. install accepts
// the sink route: it is an empty bridge's and exactly the service range.
const (
	guardBridge = "mc-guard0"
	guardTable  = "mc_test_guard"
)

// GuardUp starts the guard for installs on the cidrs (each split as install splits it): one
// guard covers a suite that moves an install from one range to another.
func GuardUp(ctx context.Context, cidrs ...string) error {
	if len(cidrs) == 0 {
		return errors.New("start the network guard: no range to guard")
	}
	node, err := network.SelectNode(network.Kernel{}, "")
	if err != nil {
		return fmt.Errorf("find the uplink: %w", err)
	}
	const podBridge = "kube-bridge" // kube-router's, k0s.BridgeName (a floor above this package)
	var forward, output strings.Builder
	var services []string
	for _, cidr := range cidrs {
		plan, err := network.Split(cidr)
		if err != nil {
			return err
		}
		// Pods talk to each other over the pod network's bridge (k0s.BridgeName) and nowhere else.
		fmt.Fprintf(&forward, "\t\tip saddr %s oifname != %q drop\n", plan.PodCIDR, podBridge)
		fmt.Fprintf(&forward, "\t\tip saddr %s oifname %q drop\n\t\tip daddr %[1]s oifname %[2]q drop\n", plan.ServiceCIDR, node.Interface)
		fmt.Fprintf(&output, "\t\tip daddr %s oifname %q drop\n\t\tip daddr %s oifname %[2]q drop\n", plan.PodCIDR, node.Interface, plan.ServiceCIDR)
		services = append(services, plan.ServiceCIDR.String())
	}
	rules := fmt.Sprintf(`table inet %s {
	chain forward {
		type filter hook forward priority -300; policy accept;
%s	}
	chain output {
		type filter hook output priority 0; policy accept;
%s	}
}
`, guardTable, forward.String(), output.String())
	sys := host.System{}
	if _, err := sys.Run(ctx, host.Command{Name: "ip", Args: []string{"link", "add", guardBridge, "type", "bridge"}}); err != nil {
		return fmt.Errorf("start the network guard: %w", err)
	}
	// No IPv6 link-local address: it would appear (with its route) at an unpredictable moment.
	if err := sys.SetSysctl(ctx, "net.ipv6.conf."+guardBridge+".disable_ipv6", "1"); err != nil {
		return errors.Join(fmt.Errorf("start the network guard: %w", err), GuardDown(ctx))
	}
	cmds := []host.Command{{Name: "ip", Args: []string{"link", "set", guardBridge, "up"}}}
	for _, svc := range services {
		cmds = append(cmds, host.Command{Name: "ip", Args: []string{"route", "replace", svc, "dev", guardBridge}})
	}
	cmds = append(cmds, host.Command{Name: "nft", Args: []string{"-f", "-"}, Stdin: []byte(rules)})
	for _, c := range cmds {
		if _, err := sys.Run(ctx, c); err != nil {
			return errors.Join(fmt.Errorf("start the network guard: %w", err), GuardDown(ctx))
		}
	}
	return nil
}

// GuardDown removes the guard; a guard that is not there is not an error.
func GuardDown(ctx context.Context) error {
	var errs []error
	for _, c := range []host.Command{
		{Name: "nft", Args: []string{"delete", "table", "inet", guardTable}},
		{Name: "ip", Args: []string{"link", "delete", guardBridge}}, // takes its route with it
	} {
		if out, err := (host.System{}).Run(ctx, c); err != nil && !strings.Contains(string(out), "No such") && !strings.Contains(string(out), "Cannot find") {
			errs = append(errs, fmt.Errorf("remove the network guard: %w", err))
		}
	}
	return errors.Join(errs...)
}

// IsolatedLink is the isolated namespace's only interface, where whatever is sent is dropped: an
// ifb device, which does what a dummy does when no tc rule redirects to it (some kernels have no
// dummy driver).
const IsolatedLink = "mc-air0"

// Isolate makes a network namespace with no route off the machine, loopback and a dummy-like
// interface holding nodeAddr (e.g. 172.31.254.2/24) and the default route, and returns the PID
// of the process holding it: the namespace is /proc/PID/ns/net. A process holds it, not a name in
// /run/netns: k0s reset unmounts and deletes everything there. The holder runs in a session of its
// own, so it outlives a caller that exits; the namespace goes when the holder is killed and
// nothing else runs in it.
func Isolate(ctx context.Context, nodeAddr string) (int, error) {
	sys := host.System{}
	pid, err := sys.Start(ctx, host.Command{Name: "unshare", Args: []string{"--net", "--", "sleep", "infinity"}}, os.DevNull)
	if err != nil {
		return 0, fmt.Errorf("isolate: %w", err)
	}
	fail := func(err error) (int, error) {
		return 0, errors.Join(fmt.Errorf("isolate: %w", err), sys.Signal(ctx, pid, syscall.SIGKILL))
	}
	path := NetnsOf(pid)
	self, _ := os.Readlink("/proc/self/ns/net")
	if err := wait.PollUntilContextTimeout(ctx, 10*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		ns, err := os.Readlink(path)
		return err == nil && ns != self, nil // once unshare has made it
	}); err != nil {
		return fail(fmt.Errorf("unshare made no network namespace in 10s: %w", err))
	}
	in := func(args ...string) host.Command {
		name, args := InNetns(path, args[0], args[1:]...)
		return host.Command{Name: name, Args: args}
	}
	for _, c := range []host.Command{
		in("ip", "link", "set", "lo", "up"),
		in("ip", "link", "add", IsolatedLink, "type", "ifb"),
		in("ip", "addr", "add", nodeAddr, "dev", IsolatedLink),
		in("ip", "link", "set", IsolatedLink, "up"),
		in("ip", "route", "add", "default", "dev", IsolatedLink),
	} {
		if _, err := sys.Run(ctx, c); err != nil {
			return fail(err)
		}
	}
	links, err := sys.Run(ctx, in("ip", "-br", "link"))
	if err != nil {
		return fail(err)
	}
	if strings.Count(strings.TrimSpace(string(links)), "\n") != 1 {
		return fail(fmt.Errorf("the isolated namespace has links besides lo and %s:\n%s", IsolatedLink, links))
	}
	return pid, nil
}

// NetnsOf is the path of process pid's network namespace.
func NetnsOf(pid int) string { return fmt.Sprintf("/proc/%d/ns/net", pid) }

// FreeRange is the first range of /bits within space (e.g. 172.16.0.0/12 and "24") that no route
// or address of this host's network namespace overlaps: a subnet for test hosts that collides with
// nothing here.
func FreeRange(space, bits string) (netip.Prefix, error) {
	within, err := netip.ParsePrefix(space)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("free-range: %w", err)
	}
	size, err := strconv.Atoi(bits)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("free-range: %q is not a prefix length", bits)
	}
	routes, err := network.Taken(network.Kernel{})
	if err != nil {
		return netip.Prefix{}, err
	}
	var taken []netip.Prefix
	for _, r := range routes {
		if r.Dst.Bits() > 0 { // a default route takes nothing
			taken = append(taken, r.Dst)
		}
	}
	free, ok := network.FreeRangeIn(within, size, taken)
	if !ok {
		return netip.Prefix{}, fmt.Errorf("free-range: no /%d of %s is free of this host's routes and addresses", size, within)
	}
	return free, nil
}
