package preflight

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/datastax/mission-control/installer/network"
)

// Gather reads the facts from this machine. It only reads: nothing is bound, created or probed.
func Gather(in Input, hostNet network.HostNetwork) (Facts, error) {
	f := Facts{CPUs: runtime.NumCPU()}
	var err error
	if f.MemoryBytes, err = memTotal("/proc/meminfo"); err != nil {
		return Facts{}, err
	}
	if f.DiskPath, f.DiskFreeBytes, f.DiskTotalBytes, err = diskFree(in.DataDir); err != nil {
		return Facts{}, err
	}
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		ports, err := listeningPorts(table)
		if err != nil {
			return Facts{}, err
		}
		f.Listening = append(f.Listening, ports...)
	}
	slices.Sort(f.Listening)
	f.Listening = slices.Compact(f.Listening)
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
	return f, nil
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

func memTotal(path string) (uint64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("read memory size: %w", err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("parse %s: %q: %w", path, line, err)
			}
			return kb * 1024, nil
		}
	}
	return 0, fmt.Errorf("parse %s: no MemTotal line", path)
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

func listeningPorts(path string) ([]int, error) {
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil, nil // no IPv6 on this host
	}
	if err != nil {
		return nil, fmt.Errorf("read listening ports: %w", err)
	}
	var ports []int
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Scan() // header
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 4 || fields[3] != tcpListen {
			continue
		}
		_, hexPort, ok := strings.Cut(fields[1], ":")
		port, err := strconv.ParseUint(hexPort, 16, 16)
		if !ok || err != nil {
			return nil, fmt.Errorf("parse %s: local address %q", path, fields[1])
		}
		ports = append(ports, int(port))
	}
	return ports, sc.Err()
}
