package preflight

import (
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/datastax/mission-control/internal/check"
	"github.com/datastax/mission-control/internal/host"
)

// Filesystems the data dir may be on: containerd's overlayfs snapshotter keeps image layers there.
var (
	supportedFilesystems = []string{"ext4", "xfs", "btrfs"}
	// unusable: overlayfs cannot stack its upper dir on these, or they are lost at reboot.
	unusableFilesystems = []string{"overlay", "aufs", "tmpfs", "ramfs", "nfs", "nfs4", "cifs", "smb3", "9p", "vfat", "exfat"}
)

func filesystemResult(m host.Mount) check.Result {
	r := check.Result{Check: "data dir filesystem", Status: check.Pass, Message: fmt.Sprintf("%s at %s", m.FSType, m.Point)}
	const remedy = "choose a --data-dir on a local ext4 or xfs filesystem mounted without noexec"
	switch {
	case m.FSType == "":
		r.Status, r.Message, r.Remedy = check.Warn, "filesystem not found in /proc/self/mountinfo", remedy
	case slices.Contains(m.Options, "ro"):
		r.Status, r.Message, r.Remedy = check.Fail, fmt.Sprintf("%s at %s is mounted read-only", m.FSType, m.Point), remedy
	case slices.Contains(m.Options, "noexec"):
		r.Status, r.Message, r.Remedy = check.Fail, fmt.Sprintf("%s at %s is mounted noexec: the runtime's binaries could not run", m.FSType, m.Point), remedy
	case slices.Contains(unusableFilesystems, m.FSType) || strings.HasPrefix(m.FSType, "fuse"):
		r.Status, r.Remedy = check.Fail, remedy
		r.Message = fmt.Sprintf("%s at %s: containerd's overlayfs snapshotter cannot keep image layers there", m.FSType, m.Point)
	case !slices.Contains(supportedFilesystems, m.FSType):
		r.Status, r.Remedy = check.Warn, remedy
		r.Message = fmt.Sprintf("%s at %s is untested (tested: %s)", m.FSType, m.Point, strings.Join(supportedFilesystems, ", "))
	}
	return r
}

func forwardingResult(f Facts) check.Result {
	if f.ForwardingError != "" {
		return check.Result{Check: "ip forwarding", Status: check.Fail, Message: "cannot be switched on: " + f.ForwardingError,
			Remedy: "run on a host (or a privileged container) whose /proc/sys is writable"}
	}
	return check.Result{Check: "ip forwarding", Status: check.Pass, Message: "can be switched on (the runtime does)"}
}

// maxHostnameLength: k0s names the node after the host, and the name is a DNS label in the
// node's certificates and the kubelet's registration.
const maxHostnameLength = 63

func hostnameResult(name string) check.Result {
	r := check.Result{Check: "hostname", Status: check.Pass, Message: name}
	const remedy = "set a hostname of at most 63 lowercase letters, digits, '-' and '.': hostnamectl set-hostname NAME (or write /etc/hostname and run hostname NAME)"
	switch {
	case name == "":
		r.Status, r.Message, r.Remedy = check.Fail, "empty", remedy
	case len(name) > maxHostnameLength:
		r.Status, r.Message, r.Remedy = check.Fail, fmt.Sprintf("%q is %d characters; k0s names the node after it and handles at most %d", name, len(name), maxHostnameLength), remedy
	default:
		if errs := validation.IsDNS1123Subdomain(strings.ToLower(name)); len(errs) > 0 {
			r.Status, r.Message, r.Remedy = check.Fail, fmt.Sprintf("%q is not a valid node name: %s", name, errs[0]), remedy
		}
	}
	return r
}

func clockResult(f Facts) check.Result {
	if !f.ClockSynced {
		return check.Result{Check: "clock sync", Status: check.Warn, Message: "the kernel reports the clock unsynchronised: certificates and multi-region Cassandra need clocks in step",
			Remedy: "run an NTP client: apt-get install chrony (or dnf install chrony), then check with chronyc tracking"}
	}
	return check.Result{Check: "clock sync", Status: check.Pass, Message: "synchronised"}
}

func selinuxResult(f Facts) check.Result {
	if f.SELinuxEnforcing {
		return check.Result{Check: "selinux", Status: check.Warn, Message: "enforcing: containers need the container-selinux policy",
			Remedy: "dnf install container-selinux; or switch to permissive: setenforce 0 and SELINUX=permissive in /etc/selinux/config"}
	}
	return check.Result{Check: "selinux", Status: check.Pass, Message: "not enforcing"}
}

func firewalldResult(f Facts, in Input) check.Result {
	if !f.FirewalldRunning {
		return check.Result{Check: "firewalld", Status: check.Pass, Message: "not running"}
	}
	ports := make([]string, len(Ports))
	for i, p := range Ports {
		ports[i] = fmt.Sprintf("--add-port=%d/tcp", p.Port)
	}
	return check.Result{Check: "firewalld", Status: check.Warn, Message: "running: it drops pod and service traffic unless their ranges are trusted",
		Remedy: fmt.Sprintf("firewall-cmd --permanent %s && firewall-cmd --permanent --zone=trusted --add-source=%s --add-source=%s && firewall-cmd --reload",
			strings.Join(ports, " "), in.Network.PodCIDR, in.Network.ServiceCIDR)}
}

func systemdResult(f Facts) check.Result {
	if !f.Systemd {
		return check.Result{Check: "systemd", Status: check.Warn, Message: "not the init system: mission-control supervises the runtime itself, and nothing starts it at boot",
			Remedy: "after a reboot, run the same install command again to start the runtime"}
	}
	if f.NetnsError != "" {
		return check.Result{Check: "systemd", Status: check.Fail, Message: "the runtime's unit could not run where install does: " + f.NetnsError,
			Remedy: "ip netns attach NAME PID (a process in this network namespace), then run the install with nsenter --net=/run/netns/NAME"}
	}
	return check.Result{Check: "systemd", Status: check.Pass, Message: "the runtime runs as a systemd unit"}
}
