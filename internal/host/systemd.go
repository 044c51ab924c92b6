package host

import "fmt"

// HasSystemd reports whether systemd is the running init system.
func HasSystemd(r Reader) bool {
	ok, _ := r.Exists("/run/systemd/system")
	return ok
}

// SystemdNetns is the network namespace the unit must join for the runtime to run where install runs:
// "" when that is init's, else the bind mount that names install's (/run/netns/NAME, as ip
// netns attach makes it). systemd starts units in init's namespace, and joins another only by
// a path.
func SystemdNetns(r Reader) (string, error) {
	self, err := r.Readlink("/proc/self/ns/net")
	if err != nil {
		return "", fmt.Errorf("read this process's network namespace: %w", err)
	}
	initNetns, err := r.Readlink("/proc/1/ns/net")
	if err != nil {
		return "", fmt.Errorf("read init's network namespace: %w", err)
	}
	if self == initNetns {
		return "", nil
	}
	mounts, err := MountTable(r)
	if err != nil {
		return "", fmt.Errorf("read mount table: %w", err)
	}
	for _, m := range mounts {
		if m.FSType == "nsfs" && m.Root == self {
			return m.Point, nil
		}
	}
	return "", fmt.Errorf("this runs in network namespace %s, which has no name systemd could start the runtime in: "+
		"name it (ip netns attach NAME PID) and run in it with nsenter --net=/run/netns/NAME, or run in the host's network namespace", self)
}
