package testhost

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/datastax/mission-control/internal/testenv"
)

func TestDiff(t *testing.T) {
	before := Snapshot{"links": {"eth0", "lo"}, "routes": {"default via x"}}
	after := Snapshot{"links": {"eth0", "lo", "mc-br0"}, "mounts": {"/run/k0s tmpfs"}}
	want := []string{"links: added: mc-br0", "mounts: added: /run/k0s tmpfs", "routes: gone:  default via x"}
	if got := before.Diff(after); !slices.Equal(got, want) {
		t.Errorf("Diff = %q, want %q", got, want)
	}
	if got := after.Diff(after); len(got) != 0 {
		t.Errorf("a snapshot differs from itself: %q", got)
	}
}

// TestSnapshotOfThisHost reads this machine: what needs root (nft, iptables) is in the e2e tests.
func TestSnapshotOfThisHost(t *testing.T) {
	// nft and iptables-save read rulesets as root only: skipped without root, failed under CI=true.
	testenv.Require(t, testenv.Root)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := TakeSnapshot(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(s["links"], "lo:") || len(s["mounts"]) == 0 || len(s["files"]) == 0 {
		t.Errorf("snapshot lacks this host's loopback, mounts or files: %v", s["links"])
	}
	if d := s.Diff(s); len(d) != 0 {
		t.Error(d)
	}
}
