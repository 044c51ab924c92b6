package k0s

import (
	"context"
	"testing"

	"github.com/datastax/mission-control/internal/host"
)

// TestResetKeepsOtherNetns: another program's named network namespace (ip netns attach) is bound
// aside while k0s resets, and put back; the pods' are left to k0s.
func TestResetKeepsOtherNetns(t *testing.T) {
	l := Layout{DataDir: "/data"}
	rec := host.NewRecorder(fakeReader{"/": "", "/data": "", "/data/run": "", "/run": "", "/run/netns": "",
		"/proc/self/mountinfo": "1 0 254:0 / / rw - ext4 /dev/vda rw\n" +
			"30 1 254:0 /run/netns /run/netns rw shared:5 - ext4 /dev/vda rw\n" +
			"31 30 0:4 net:[4026532283] /run/netns/airgap rw shared:5 - nsfs nsfs rw\n" +
			"32 30 0:4 net:[4026532290] /run/netns/cni-1f2e rw shared:5 - nsfs nsfs rw\n",
	})
	if err := Reset(context.Background(), rec, l); err != nil {
		t.Fatal(err)
	}
	// The recorder does not run k0s reset, so the namespace is still mounted afterwards: only the
	// aside mount goes.
	want := []string{
		"mkdir /data/run/kept-namespaces (0700)",
		"write /data/run/kept-namespaces/airgap (0400, 0 bytes)",
		"mount /run/netns/airgap (, bind) on /data/run/kept-namespaces/airgap",
		"run /data/k0s/bin/k0s reset --data-dir /data/k0s --config /data/etc/k0s.yaml",
		"unmount /data/run/kept-namespaces/airgap",
		"remove /data/run/kept-namespaces",
	}
	wantOps(t, "reset", rec.Ops(), want)
}

// TestPutBackNetns: where k0s reset took /run/netns and a namespace in it, both come back.
func TestPutBackNetns(t *testing.T) {
	rec := host.NewRecorder(fakeReader{"/proc/self/mountinfo": "1 0 254:0 / / rw - ext4 /dev/vda rw\n"})
	aside := func(string) string { return "/data/run/kept-namespaces/airgap" }
	if err := putBackNetns(context.Background(), rec, []string{"/run/netns/airgap"}, aside, true); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"mkdir /run/netns (0755)",
		"mount /run/netns (, bind) on /run/netns",
		"mount  (, shared) on /run/netns",
		"write /run/netns/airgap (0444, 0 bytes)",
		"mount /data/run/kept-namespaces/airgap (, bind) on /run/netns/airgap",
		"unmount /data/run/kept-namespaces/airgap",
	}
	wantOps(t, "put back", rec.Ops(), want)
}
