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
)

// Gather reads the facts our own checks judge from this machine (hostpreflight.Gather adds
// troubleshoot's verdicts). It only reads: nothing is bound, created or probed.
func Gather(in Input, hostNet network.HostNetwork) (Facts, error) {
	var f Facts
	var err error
	if f.DiskPath, f.DiskFreeBytes, f.DiskTotalBytes, err = diskFree(in.DataDir); err != nil {
		return Facts{}, err
	}
	if f.DataDirMount, err = mountOf(procMountinfo, f.DiskPath); err != nil {
		return Facts{}, err
	}
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
	_, err = os.Stat("/run/systemd/system")
	f.Systemd = err == nil
	return f, nil
}

// timeError is adjtimex's TIME_ERROR state: the clock is not synchronised.
const timeError = 5

const procMountinfo = "/proc/self/mountinfo"

// mountOf finds the mount holding path: the longest mount point that is a prefix of it (the
// last such line, as later mounts hide earlier ones).
func mountOf(mountinfo, path string) (Mount, error) {
	b, err := os.ReadFile(mountinfo)
	if err != nil {
		return Mount{}, fmt.Errorf("read mounts: %w", err)
	}
	var best Mount
	for line := range strings.SplitSeq(string(b), "\n") {
		// ID PARENT MAJ:MIN ROOT POINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTIONS
		pre, post, ok := strings.Cut(line, " - ")
		fields, after := strings.Fields(pre), strings.Fields(post)
		if !ok || len(fields) < 6 || len(after) < 1 {
			continue
		}
		point := unescapeMountPath(fields[4])
		if !within(path, point) || len(point) < len(best.Point) {
			continue
		}
		best = Mount{Point: point, FSType: after[0], Options: strings.Split(fields[5], ",")}
	}
	return best, nil
}

func within(path, dir string) bool {
	return dir == "/" || path == dir || strings.HasPrefix(path, dir+"/")
}

// unescapeMountPath undoes mountinfo's octal escapes (\040 for a space).
func unescapeMountPath(s string) string {
	if !strings.Contains(s, "\\") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// processRunning reports whether a process of this PID namespace has the command name.
func processRunning(comm string) bool {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		if b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "comm")); err == nil && strings.TrimSpace(string(b)) == comm {
			return true
		}
	}
	return false
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
	var out []Listener
	for inode, port := range byInode {
		i := slices.IndexFunc(out, func(l Listener) bool { return l.Port == port })
		if i < 0 {
			out = append(out, Listener{Port: port, Process: owners[inode]})
		} else if out[i].Process == "" {
			out[i].Process = owners[inode]
		}
	}
	slices.SortFunc(out, func(a, b Listener) int { return a.Port - b.Port })
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
	procs, _ := os.ReadDir("/proc")
	for _, p := range procs {
		if _, err := strconv.Atoi(p.Name()); err != nil {
			continue
		}
		fdDir := filepath.Join("/proc", p.Name(), "fd")
		fds, _ := os.ReadDir(fdDir)
		for _, fd := range fds {
			link, err := os.Readlink(filepath.Join(fdDir, fd.Name()))
			inode, ok := strings.CutPrefix(link, "socket:[")
			if err != nil || !ok {
				continue
			}
			inode = strings.TrimSuffix(inode, "]")
			if _, listening := inodes[inode]; listening && owners[inode] == "" {
				comm, _ := os.ReadFile(filepath.Join("/proc", p.Name(), "comm"))
				owners[inode] = fmt.Sprintf("%s (pid %s)", strings.TrimSpace(string(comm)), p.Name())
			}
		}
	}
	return owners
}
