package testhost

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
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

func TestWithoutRuntimeState(t *testing.T) {
	s := Snapshot{"files": {"/var/lib/mc drwx------", "/var/lib/mc/install.yaml -rw------- 430 bytes", "/var/lib/mc/log/k0s.log -rw------- 9 bytes",
		"/var/lib/mc/k0s/kubelet/pods/x drwxr-x---", "/run/containerd/x srw-rw----", "/etc/k0s drwxr-xr-x"}, "links": {"lo:"}}
	want := Snapshot{"files": {"/var/lib/mc drwx------", "/var/lib/mc/install.yaml -rw------- 430 bytes", "/etc/k0s drwxr-xr-x"}, "links": {"lo:"}}
	if got := s.WithoutRuntimeState("/var/lib/mc"); len(got.Diff(want)) != 0 || len(s["files"]) != 6 {
		t.Errorf("WithoutRuntimeState = %v (the original now %d files)", got, len(s["files"]))
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
	// A file whose mode and size change, and a link whose target does, under names that stay.
	dir, err := os.MkdirTemp("/run", "mc-snapshot-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	file, link := filepath.Join(dir, "file"), filepath.Join(dir, "link")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(file, []byte("one"), 0o600))
	must(os.Symlink("/etc/hostname", link))
	before, err := TakeSnapshot(ctx, "")
	must(err)
	must(os.WriteFile(file, []byte("three"), 0o644))
	must(os.Chmod(file, 0o644))
	must(os.Remove(link))
	must(os.Symlink("/etc/hosts", link))
	after, err := TakeSnapshot(ctx, "")
	must(err)
	want := []string{
		"files: added: " + file + " -rw-r--r-- 5 bytes", "files: added: " + link + " Lrwxrwxrwx -> /etc/hosts",
		"files: gone:  " + file + " -rw------- 3 bytes", "files: gone:  " + link + " Lrwxrwxrwx -> /etc/hostname",
	}
	var got []string
	for _, d := range before.Diff(after) {
		if strings.Contains(d, dir) {
			got = append(got, d)
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("diff of the changed file and link:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
