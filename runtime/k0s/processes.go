package k0s

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/datastax/mission-control/internal/datadir"
	"github.com/datastax/mission-control/internal/host"
)

// processAlive: a process exists and is not a zombie waiting to be reaped.
func processAlive(r host.Reader, pid int) bool {
	stat, err := r.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the command name, which is in parentheses and may contain spaces.
	i := strings.LastIndexByte(string(stat), ')')
	return i > 0 && i+2 < len(stat) && stat[i+2] != 'Z' && stat[i+2] != 'X'
}

// Process is a process of the runtime.
type Process struct {
	PID  int
	Comm string
}

func (p Process) String() string { return fmt.Sprintf("%s (pid %d)", p.Comm, p.PID) }

// Processes are the runtime's processes still alive: those run from its binaries under the data
// dir (the supervisor, k0s and everything k0s starts from its bin dir: the Kubernetes
// components, etcd, containerd and its shims), whose binary may already be deleted. The calling
// process is never one of them, even when it runs the data dir's copy of mission-control.
func Processes(r host.Reader, l datadir.Layout) ([]Process, error) {
	names, err := r.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	self, _ := r.Readlink("/proc/self")
	var procs []Process
	for _, name := range names {
		pid, err := strconv.Atoi(name)
		if err != nil || name == self || !processAlive(r, pid) || !fromDataDir(r, name, l) {
			continue
		}
		comm, _ := r.ReadFile("/proc/" + name + "/comm")
		procs = append(procs, Process{PID: pid, Comm: strings.TrimSpace(string(comm))})
	}
	return procs, nil
}

// fromDataDir reports whether process pid runs a binary of the data dir: its executable (which
// the kernel shows " (deleted)" once reset removed it) or, where that is unreadable, its argv[0].
func fromDataDir(r host.Reader, pid string, l datadir.Layout) bool {
	exe, err := r.Readlink("/proc/" + pid + "/exe")
	if err != nil {
		cmdline, err := r.ReadFile("/proc/" + pid + "/cmdline")
		if err != nil {
			return false
		}
		exe, _, _ = strings.Cut(string(cmdline), "\x00")
	}
	return strings.HasPrefix(filepath.Clean(strings.TrimSuffix(exe, " (deleted)")), l.DataDir+"/")
}

// ending is how EndProcesses times its work.
type ending struct {
	// grace is how long a process has after SIGTERM before it gets SIGKILL; timeout bounds the
	// whole wait; interval is how often processes are listed.
	grace, timeout, interval time.Duration
}

var defaultEnding = ending{grace: 5 * time.Second, timeout: 30 * time.Second, interval: 100 * time.Millisecond}

// EndProcesses ends the runtime's processes still alive: each gets SIGTERM, and SIGKILL if it is
// still there 5 s later, and EndProcesses returns once none is left, naming those it could not
// end within 30 s. update, if set, is told what it waits for. Reset calls it once the service is
// stopped and k0s has reset itself, before anything is unmounted or removed.
func EndProcesses(ctx context.Context, h host.Host, l datadir.Layout, update func(string)) error {
	return defaultEnding.end(ctx, h, func() ([]Process, error) { return Processes(h, l) }, update)
}

// end ends the processes list finds, until it finds none.
func (e ending) end(ctx context.Context, h host.Host, list func() ([]Process, error), update func(string)) error {
	start := time.Now()
	termed := map[int]time.Time{}
	killed := map[int]bool{}
	var left []Process
	var stepErr error
	err := wait.PollUntilContextTimeout(ctx, e.interval, e.timeout, true, func(ctx context.Context) (bool, error) {
		if left, stepErr = list(); stepErr != nil {
			return false, stepErr
		}
		for _, p := range left {
			switch at, ok := termed[p.PID]; {
			case !ok:
				termed[p.PID] = time.Now()
				stepErr = h.Signal(ctx, p.PID, syscall.SIGTERM)
			case !killed[p.PID] && time.Since(at) >= e.grace:
				killed[p.PID] = true
				stepErr = h.Signal(ctx, p.PID, syscall.SIGKILL)
			}
			if stepErr != nil {
				return false, stepErr
			}
		}
		if len(left) > 0 && update != nil {
			update(fmt.Sprintf("waiting for %s to end (%s)", describe(left), time.Since(start).Round(time.Second)))
		}
		return len(left) == 0, nil
	})
	switch {
	case stepErr != nil:
		return stepErr
	case err != nil && ctx.Err() != nil:
		return err
	case err != nil:
		return fmt.Errorf("the runtime's processes did not end within %s, even killed: %s", e.timeout, describe(left))
	}
	return nil
}

// describe names processes, the first few in full.
func describe(procs []Process) string {
	names := make([]string, 0, 4)
	for _, p := range procs[:min(len(procs), 3)] {
		names = append(names, p.String())
	}
	if len(procs) > 3 {
		names = append(names, fmt.Sprintf("%d more", len(procs)-3))
	}
	return strings.Join(names, ", ")
}
