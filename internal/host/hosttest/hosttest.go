// Package hosttest gives tests hosts to record against: Fresh reads like a fresh machine, so that a
// plan recorded over it is the same on every machine and whatever an earlier run left behind;
// Empty has nothing on it; Stubbed answers commands as a real run would.
package hosttest

import (
	"context"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/datastax/mission-control/internal/host"
)

// Fresh reads this machine except for what varies between machines and would change a plan:
// capabilities, users, mounts, the hostname, kernel parameters, systemd, iptables, cgroups and every system path
// (/etc, /run, /var, /usr, /lib, /sys/fs/cgroup), which read as absent. Temporary directories, where tests keep their data
// dirs and inputs, read through.
type Fresh struct{ host.System }

// ReadFile implements host.Reader.
func (f Fresh) ReadFile(path string) ([]byte, error) {
	switch path {
	case "/proc/self/status":
		return []byte("Name:\tmission-control\nCapEff:\t000001fffeffffff\n"), nil // no CAP_SYS_RESOURCE
	case "/etc/passwd":
		return []byte("root:x:0:0:root:/root:/bin/bash\n"), nil
	case "/proc/self/mountinfo": // the root filesystem only: no runtime's mounts of an earlier run
		return []byte("1 0 254:0 / / rw,relatime - ext4 /dev/vda rw\n"), nil
	case "/proc/sys/kernel/hostname": // the node's name
		return []byte("Node-1\n"), nil
	}
	return f.System.ReadFile(path)
}

// Exists implements host.Reader.
func (f Fresh) Exists(path string) (bool, error) {
	switch {
	case path == "/usr/sbin/xtables-nft-multi" || path == "/usr/sbin/xtables-legacy-multi":
		return true, nil
	case strings.HasPrefix(path, "/etc/") || strings.HasPrefix(path, "/run/") ||
		strings.HasPrefix(path, "/var/") || strings.HasPrefix(path, "/usr/") || strings.HasPrefix(path, "/lib/") ||
		strings.HasPrefix(path, "/sys/fs/cgroup/"):
		return false, nil
	}
	return f.System.Exists(path)
}

// Sysctl implements host.Reader: every parameter reads as off.
func (Fresh) Sysctl(string) (string, error) { return "0", nil }

// Empty is a Reader of a machine with nothing on it: no files, no sysctls. A Recorder over it
// records an install on a fresh host.
type Empty struct{}

var _ host.Reader = Empty{}

// ReadFile implements host.Reader.
func (Empty) ReadFile(path string) ([]byte, error) {
	return nil, &fs.PathError{Op: "open", Path: path, Err: fs.ErrNotExist}
}

// Exists implements host.Reader: only the root exists.
func (Empty) Exists(path string) (bool, error) { return filepath.Clean(path) == "/", nil }

// Open implements host.Reader.
func (Empty) Open(path string) (fs.File, error) {
	return nil, &fs.PathError{Op: "open", Path: path, Err: fs.ErrNotExist}
}

// ReadDir implements host.Reader.
func (Empty) ReadDir(path string) ([]string, error) {
	if filepath.Clean(path) == "/" {
		return nil, nil
	}
	return nil, &fs.PathError{Op: "open", Path: path, Err: fs.ErrNotExist}
}

// Readlink implements host.Reader.
func (Empty) Readlink(path string) (string, error) {
	return "", &fs.PathError{Op: "readlink", Path: path, Err: fs.ErrNotExist}
}

// Sysctl implements host.Reader.
func (Empty) Sysctl(key string) (string, error) {
	return "", fmt.Errorf("read sysctl %s: %w", key, fs.ErrNotExist)
}

// IPSets implements host.Reader: none.
func (Empty) IPSets() ([]string, error) { return nil, nil }

// Stubbed is a Recorder whose Run answers the commands in Out (keyed as host.Command.String
// renders them) with their output, as a real run would have: for tests of code that reads what
// it runs.
type Stubbed struct {
	*host.Recorder
	Out map[string]string
}

var _ host.Host = Stubbed{}

// Run implements host.Host: it records the command, then answers it.
func (s Stubbed) Run(ctx context.Context, cmd host.Command) ([]byte, error) {
	if _, err := s.Recorder.Run(ctx, cmd); err != nil {
		return nil, err
	}
	if out, ok := s.Out[cmd.String()]; ok {
		return []byte(out), nil
	}
	return nil, nil
}
