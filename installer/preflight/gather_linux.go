package preflight

import (
	"bufio"
	"bytes"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/datastax/mission-control/installer/network"
	"github.com/datastax/mission-control/internal/host"
	"github.com/datastax/mission-control/runtime/k0s"
)

// Gather reads the facts our own checks judge from this machine (hostpreflight.Gather adds
// troubleshoot's verdicts). It only reads: nothing is bound, created or probed.
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
	if f.Node, err = network.SelectNode(hostNet, in.NetworkInterface); err != nil {
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
	f.Systemd = k0s.HasSystemd(host.System{})
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
	found := false
	forEachProcess(func(pid string) {
		found = found || comm(pid) == name
	})
	return found
}

// forEachProcess calls fn with the PID of every process of this PID namespace.
func forEachProcess(fn func(pid string)) {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err == nil {
			fn(e.Name())
		}
	}
}

// comm is a process's command name; empty once it has exited.
func comm(pid string) string {
	b, _ := os.ReadFile(filepath.Join("/proc", pid, "comm"))
	return strings.TrimSpace(string(b))
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

// tcpListen is the state column's value for LISTEN in /proc/net/tcp.
const tcpListen = "0A"

// listeners are the TCP ports listened on in this network namespace, with the process holding
// each socket where one of this PID namespace does.
func listeners() ([]Listener, error) {
	byInode := map[string]int{}
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		found, err := listeningSockets(table)
		if err != nil {
			return nil, err
		}
		maps.Copy(byInode, found)
	}
	owners := socketOwners(byInode)
	byPort := map[int]string{} // a port listened on twice (IPv4 and IPv6) is one Listener
	for inode, port := range byInode {
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

// listeningSockets maps the inode of each listening socket in a /proc/net/tcp table to its port.
func listeningSockets(path string) (map[string]int, error) {
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil, nil // no IPv6 on this host
	}
	if err != nil {
		return nil, fmt.Errorf("read listening ports: %w", err)
	}
	sockets := map[string]int{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Scan() // header
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 10 || fields[3] != tcpListen {
			continue
		}
		_, hexPort, ok := strings.Cut(fields[1], ":")
		port, err := strconv.ParseUint(hexPort, 16, 16)
		if !ok || err != nil {
			return nil, fmt.Errorf("parse %s: local address %q", path, fields[1])
		}
		sockets[fields[9]] = int(port)
	}
	return sockets, sc.Err()
}

// socketOwners names the process holding each socket inode, as "COMM (pid PID)", by reading the
// file descriptors of every process; processes that vanish or hide their fds are skipped.
func socketOwners(inodes map[string]int) map[string]string {
	owners := map[string]string{}
	forEachProcess(func(pid string) {
		fdDir := filepath.Join("/proc", pid, "fd")
		fds, _ := os.ReadDir(fdDir)
		for _, fd := range fds {
			link, err := os.Readlink(filepath.Join(fdDir, fd.Name()))
			inode, ok := strings.CutPrefix(link, "socket:[")
			if err != nil || !ok {
				continue
			}
			inode = strings.TrimSuffix(inode, "]")
			if _, listening := inodes[inode]; listening && owners[inode] == "" {
				owners[inode] = fmt.Sprintf("%s (pid %s)", comm(pid), pid)
			}
		}
	})
	return owners
}
