// Package hosttest gives tests a host.Reader that reads like a fresh machine, so that a plan
// recorded over it is the same on every machine and whatever an earlier run left behind.
package hosttest

import (
	"strings"

	"github.com/datastax/mission-control/internal/host"
)

// Fresh reads this machine except for what varies between machines and would change a plan:
// capabilities, users, kernel parameters, systemd, iptables and every system path (/etc, /run,
// /var, /usr, /lib), which read as absent. Temporary directories, where tests keep their data
// dirs and inputs, read through.
type Fresh struct{ host.System }

// ReadFile implements host.Reader.
func (f Fresh) ReadFile(path string) ([]byte, error) {
	switch path {
	case "/proc/self/status":
		return []byte("Name:\tmission-control\nCapEff:\t000001fffeffffff\n"), nil // no CAP_SYS_RESOURCE
	case "/etc/passwd":
		return []byte("root:x:0:0:root:/root:/bin/bash\n"), nil
	}
	return f.System.ReadFile(path)
}

// Exists implements host.Reader.
func (f Fresh) Exists(path string) (bool, error) {
	switch {
	case path == "/usr/sbin/xtables-nft-multi" || path == "/usr/sbin/xtables-legacy-multi":
		return true, nil
	case strings.HasPrefix(path, "/etc/") || strings.HasPrefix(path, "/run/") ||
		strings.HasPrefix(path, "/var/") || strings.HasPrefix(path, "/usr/") || strings.HasPrefix(path, "/lib/"):
		return false, nil
	}
	return f.System.Exists(path)
}

// Sysctl implements host.Reader: every parameter reads as off.
func (Fresh) Sysctl(string) (string, error) { return "0", nil }
