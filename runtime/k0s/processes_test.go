package k0s

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/datastax/mission-control/internal/datadir"
	"github.com/datastax/mission-control/internal/host"
)

// startFrom starts sh -c script from a copy of /bin/sh at shell (a data dir's binary, as the
// runtime's are; copied once), or from /bin/sh itself when shell is empty. The process is killed when the
// test ends.
func startFrom(t *testing.T, shell, script string) int {
	t.Helper()
	name := "/bin/sh"
	if _, err := os.Stat(shell); shell != "" && err != nil {
		data, err := os.ReadFile("/bin/sh")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(shell), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(shell, data, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if shell != "" {
		name = shell
	}
	pid, err := host.System{}.Start(context.Background(), host.Command{Name: name, Args: []string{"-c", script}}, os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Kill(-pid, syscall.SIGKILL) })
	// Wait for the shell to be itself (exec done), so /proc/PID/exe names it.
	want, _ := filepath.EvalSymlinks(name)
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if exe, err := os.Readlink("/proc/" + itoa(pid) + "/exe"); err == nil && exe == want {
			break
		}
	}
	return pid
}

func itoa(n int) string { return strconv.Itoa(n) }

func pids(procs []Process) []int {
	out := make([]int, len(procs))
	for i, p := range procs {
		out[i] = p.PID
	}
	return out
}

// deaf is a host whose signals reach nothing.
type deaf struct{ host.System }

func (deaf) Signal(context.Context, int, syscall.Signal) error { return nil }

// TestEndProcesses runs real processes from a data dir: one stops at SIGTERM, one ignores it and
// is killed; a process from elsewhere is left alone; one that cannot be ended is named.
func TestEndProcesses(t *testing.T) {
	l := datadir.Layout{DataDir: t.TempDir()}
	shell := filepath.Join(l.K0sBinDir(), "sh")
	polite := startFrom(t, shell, "while :; do sleep 1; done")
	stubborn := startFrom(t, shell, `trap "" TERM; while :; do sleep 1; done`)
	outsider := startFrom(t, "", "while :; do sleep 1; done")

	procs, err := Processes(host.System{}, l)
	if err != nil {
		t.Fatal(err)
	}
	if got := pids(procs); !slices.Contains(got, polite) || !slices.Contains(got, stubborn) || slices.Contains(got, outsider) {
		t.Fatalf("the runtime's processes are %v; want %d and %d, not %d", procs, polite, stubborn, outsider)
	}
	var updates []string
	fast := ending{grace: 300 * time.Millisecond, timeout: 10 * time.Second, interval: 20 * time.Millisecond}
	if err := fast.end(context.Background(), host.System{}, func() ([]Process, error) { return Processes(host.System{}, l) }, func(s string) { updates = append(updates, s) }); err != nil {
		t.Fatal(err)
	}
	if left, _ := Processes(host.System{}, l); len(left) > 0 {
		t.Errorf("left running: %v", left)
	}
	if !processAlive(host.System{}, outsider) {
		t.Error("a process from outside the data dir was ended")
	}
	if len(updates) == 0 || !strings.Contains(updates[0], "sh (pid ") {
		t.Errorf("progress: %q", updates)
	}

	immortal := startFrom(t, shell, "while :; do sleep 1; done")
	err = ending{grace: 50 * time.Millisecond, timeout: 300 * time.Millisecond, interval: 20 * time.Millisecond}.end(context.Background(), deaf{}, func() ([]Process, error) { return Processes(deaf{}, l) }, nil)
	if err == nil || !strings.Contains(err.Error(), "did not end within 300ms") || !strings.Contains(err.Error(), "sh (pid "+itoa(immortal)+")") {
		t.Errorf("a process that could not be ended: %v", err)
	}
}
