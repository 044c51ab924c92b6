package k0s

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/datastax/mission-control/internal/datadir"
	"github.com/datastax/mission-control/internal/host"
)

// TestResetKeepsOtherNetns: another program's named network namespace (ip netns attach) is bound
// aside while k0s resets, and put back; the pods' are left to k0s.
func TestResetKeepsOtherNetns(t *testing.T) {
	l := datadir.Layout{DataDir: "/data"}
	rec := host.NewRecorder(fakeReader{"/": "", "/data": "", "/data/run": "", "/run": "", "/run/netns": "",
		"/proc/self/mountinfo": "1 0 254:0 / / rw - ext4 /dev/vda rw\n" +
			"30 1 254:0 /run/netns /run/netns rw shared:5 - ext4 /dev/vda rw\n" +
			"31 30 0:4 net:[4026532283] /run/netns/airgap rw shared:5 - nsfs nsfs rw\n" +
			"32 30 0:4 net:[4026532290] /run/netns/cni-1f2e rw shared:5 - nsfs nsfs rw\n",
	})
	if err := Reset(context.Background(), rec, l, ResetTimeout); err != nil {
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

// stuckHost answers `k0s reset` as a k0s whose container runtime never answers does: it returns
// only when its context ends.
type stuckHost struct{ *host.Recorder }

func (s stuckHost) Run(ctx context.Context, c host.Command) ([]byte, error) {
	if len(c.Args) > 0 && c.Args[0] == "reset" {
		<-ctx.Done()
		return nil, &host.ExecError{Cmd: c.String(), Err: ctx.Err()}
	}
	return s.Recorder.Run(ctx, c)
}

// TestResetDeadline: a k0s reset that never returns is ended at the deadline, Reset says so
// (ErrResetTimedOut) and still puts back the namespaces it set aside.
func TestResetDeadline(t *testing.T) {
	l := datadir.Layout{DataDir: "/data"}
	h := stuckHost{host.NewRecorder(fakeReader{"/": "", "/data": "", "/data/run": "", "/run": "", "/run/netns": "",
		"/proc/self/mountinfo": "1 0 254:0 / / rw - ext4 /dev/vda rw\n" +
			"31 1 0:4 net:[4026532283] /run/netns/airgap rw shared:5 - nsfs nsfs rw\n",
	})}
	done := make(chan error, 1)
	go func() { done <- Reset(context.Background(), h, l, 50*time.Millisecond) }()
	select {
	case err := <-done:
		if !errors.Is(err, ErrResetTimedOut) || !strings.Contains(err.Error(), "within 50ms") {
			t.Errorf("Reset = %v, want ErrResetTimedOut naming the deadline", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("Reset did not return after its deadline")
	}
	ops := h.Ops()
	if last := ops[len(ops)-1].String(); last != "remove /data/run/kept-namespaces" {
		t.Errorf("after the timed-out k0s reset the kept namespaces were not put back; last op %q", last)
	}
}
