package preflight

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/prometheus/procfs"
	"github.com/vishvananda/netlink"

	"github.com/datastax/mission-control/internal/host"
	"github.com/datastax/mission-control/internal/network"
)

// Gather reads the facts our own checks judge from this machine (hostpreflight.Gather adds
// troubleshoot's verdicts). It only reads: nothing is bound, created or probed. It reads the
// live machine directly, not through a host.Reader: free space, sockets, processes and the clock
// are facts of the moment that no dry run records, and the checks judge them as Facts.
func Gather(in Input, hostNet network.HostNetwork) (Facts, error) {
	var f Facts
	var err error
	if f.DiskPath, f.DiskFreeBytes, f.DiskTotalBytes, err = diskFree(in.DataDir); err != nil {
		return Facts{}, err
	}
	mounts, err := host.MountTable(host.System{})
	if err != nil {
		return Facts{}, fmt.Errorf("read mounts: %w", err)
	}
	f.DataDirMount = mountOf(mounts, f.DiskPath)
	if f.Listening, err = listeners(); err != nil {
		return Facts{}, err
	}
	if f.Taken, err = network.Taken(hostNet, in.OwnDevices...); err != nil {
		return Facts{}, err
	}
	if f.Node, err = network.SelectNode(hostNet, in.NetworkInterface, in.OwnDevices...); err != nil {
		f.NodeError = err.Error()
	}
	f.Tools = map[string]string{}
	for _, t := range RequiredTools {
		f.Tools[t.Name] = findTool(t.Name)
	}
	// access(2) tells whether k0s may switch forwarding on (a read-only /proc/sys refuses) without writing.
	if err := unix.Access("/proc/sys/net/ipv4/ip_forward", unix.W_OK); err != nil {
		f.ForwardingError = "/proc/sys/net/ipv4/ip_forward: " + err.Error()
	}
	if f.Hostname, err = os.Hostname(); err != nil {
		return Facts{}, fmt.Errorf("read the hostname: %w", err)
	}
	var tx unix.Timex // Modes 0: adjtimex only reads
	state, err := unix.Adjtimex(&tx)
	f.ClockSynced = err == nil && state != timeError && tx.Status&unix.STA_UNSYNC == 0
	if b, err := os.ReadFile("/sys/fs/selinux/enforce"); err == nil {
		f.SELinuxEnforcing = strings.TrimSpace(string(b)) == "1"
	}
	f.FirewalldRunning = processRunning("firewalld")
	f.Systemd = host.HasSystemd(host.System{})
	if in.TelemetryAggregator != "" {
		conn, err := net.DialTimeout("tcp", in.TelemetryAggregator, 3*time.Second)
		if err != nil {
			f.TelemetryError = err.Error()
		} else {
			_ = conn.Close()
		}
	}
	if _, err := host.SystemdNetns(host.System{}); f.Systemd && err != nil {
		f.NetnsError = err.Error()
	}
	return f, nil
}

// timeError is adjtimex's TIME_ERROR state: the clock is not synchronised.
const timeError = 5

// mountOf finds the mount holding path: the longest mount point that is a prefix of it (the
// last such, as later mounts hide earlier ones).
func mountOf(mounts []host.Mount, path string) host.Mount {
	var best host.Mount
	for _, m := range mounts {
		if within(path, m.Point) && len(m.Point) >= len(best.Point) {
			best = m
		}
	}
	return best
}

func within(path, dir string) bool {
	return dir == "/" || path == dir || strings.HasPrefix(path, dir+"/")
}

// processRunning reports whether a process of this PID namespace has the command name.
func processRunning(name string) bool {
	procs, err := procs()
	return err == nil && slices.ContainsFunc(procs, func(p procfs.Proc) bool {
		comm, err := p.Comm()
		return err == nil && comm == name
	})
}

// procs are the processes of this PID namespace.
func procs() (procfs.Procs, error) {
	fs, err := procfs.NewDefaultFS()
	if err != nil {
		return nil, err
	}
	return fs.AllProcs()
}

// findTool looks a program up on PATH and in the sbin directories root's PATH has.
func findTool(name string) string {
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, dir := range []string{"/usr/sbin", "/sbin", "/usr/bin", "/bin"} {
		if fi, err := os.Stat(filepath.Join(dir, name)); err == nil && fi.Mode()&0o111 != 0 {
			return filepath.Join(dir, name)
		}
	}
	return ""
}

// diskFree measures the space available to root-owned files at dir, or at its nearest existing
// ancestor when dir does not exist yet.
func diskFree(dir string) (path string, avail, total uint64, err error) {
	p := filepath.Clean(dir)
	for {
		var st syscall.Statfs_t
		err := syscall.Statfs(p, &st)
		if err == nil {
			return p, st.Bavail * uint64(st.Bsize), st.Blocks * uint64(st.Bsize), nil
		}
		if p == "/" || !os.IsNotExist(err) {
			return "", 0, 0, fmt.Errorf("measure free space at %s: %w", p, err)
		}
		p = filepath.Dir(p)
	}
}

// listeners are the TCP ports listened on in this network namespace, with the process holding
// each socket where one of this PID namespace does.
func listeners() ([]Listener, error) {
	ports := map[uint32]int{} // socket inode -> port
	for _, family := range []uint8{unix.AF_INET, unix.AF_INET6} {
		sockets, err := netlink.SocketDiagTCP(family)
		if err != nil && !(family == unix.AF_INET6 && errors.Is(err, unix.ENOENT)) { // a kernel without IPv6
			return nil, fmt.Errorf("list listening ports: %w", err)
		}
		for _, s := range sockets {
			if s.State == netlink.TCP_LISTEN {
				ports[s.INode] = int(s.ID.SourcePort)
			}
		}
	}
	owners := socketOwners(ports)
	byPort := map[int]string{} // a port listened on twice (IPv4 and IPv6) is one Listener
	for inode, port := range ports {
		if byPort[port] == "" {
			byPort[port] = owners[inode]
		}
	}
	out := make([]Listener, 0, len(byPort))
	for _, port := range slices.Sorted(maps.Keys(byPort)) {
		out = append(out, Listener{Port: port, Process: byPort[port]})
	}
	return out, nil
}

// socketOwners names the process holding each socket inode, as "COMM (pid PID)", from every
// process's file descriptors; processes that vanish or hide their fds are skipped.
func socketOwners(inodes map[uint32]int) map[uint32]string {
	owners := map[uint32]string{}
	procs, _ := procs()
	for _, p := range procs {
		targets, err := p.FileDescriptorTargets()
		if err != nil {
			continue
		}
		for _, target := range targets {
			var inode uint32
			if _, err := fmt.Sscanf(target, "socket:[%d]", &inode); err != nil {
				continue
			}
			if _, listening := inodes[inode]; listening && owners[inode] == "" {
				comm, _ := p.Comm()
				owners[inode] = fmt.Sprintf("%s (pid %d)", comm, p.PID)
			}
		}
	}
	return owners
}
