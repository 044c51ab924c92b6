package k0s

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"syscall"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/datastax/mission-control/internal/datadir"
	"github.com/datastax/mission-control/internal/host"
)

// UnitName is the systemd unit of the runtime where systemd is the init system.
const UnitName = "mission-control-k0s.service"

// unitFile is where the systemd unit is written.
const unitFile = "/etc/systemd/system/" + UnitName

// Service runs k0s as a service: a systemd unit where systemd is the init system, otherwise
// mission-control's own supervisor (a copy of this binary running `supervise`), which restarts
// k0s when it exits and logs to the data dir. Without systemd the runtime does not start at boot.
//
// Why not k0s' own: `k0s install controller` (pkg/install, kardianos/service) writes a unit
// named k0scontroller.service, the name a k0s installed on its own would use too, whose status,
// support bundles and reset could then not tell apart; its unit is otherwise the same as ours
// (Delegate=yes, KillMode=process). And it has no answer where systemd is not the init system
// (containers, this project's CI), which the supervisor covers. k0s' pkg/supervisor supervises
// k0s' components from inside k0s, not k0s itself, and imports k0s internals: the design links
// k0s' pkg/apis only.
type Service struct {
	Layout datadir.Layout
	Host   host.Host
	// Role is the node's: RoleController (also when empty) or RoleWorker.
	Role string
	// Joined: the node joined a cluster (with the join token) rather than made it.
	Joined bool
	// StopTimeout bounds a graceful stop before the service's processes are killed.
	StopTimeout time.Duration
}

// Unit is the systemd unit that runs k0s; netns, when set, is the named network namespace it
// runs in (see host.SystemdNetns).
func (s Service) Unit(netns string) []byte {
	joins := ""
	if netns != "" {
		joins = "NetworkNamespacePath=" + netns + "\n"
	}
	return []byte(fmt.Sprintf(`# Written by mission-control install; removed by reset.
[Unit]
Description=mission-control runtime (k0s)
Wants=network-online.target
After=network-online.target

[Service]
ExecStart=%s
%sRestart=always
RestartSec=5
Delegate=yes
KillMode=process
LimitNOFILE=999999
TimeoutStopSec=90

[Install]
WantedBy=multi-user.target
`, NodeCommand(s.Layout, s.Role, s.Joined), joins))
}

// supervisorCommand is the supervisor process that runs k0s where there is no systemd.
func (s Service) supervisorCommand() host.Command {
	k0s := NodeCommand(s.Layout, s.Role, s.Joined)
	return host.Command{Name: s.Layout.Self(), Args: append([]string{"supervise", "--", k0s.Name}, k0s.Args...)}
}

// Start starts the service unless it runs already.
func (s Service) Start(ctx context.Context) error {
	if host.HasSystemd(s.Host) {
		netns, err := host.SystemdNetns(s.Host)
		if err != nil {
			return err
		}
		if err := s.Host.WriteFile(ctx, unitFile, s.Unit(netns), 0o644); err != nil {
			return err
		}
		for _, args := range [][]string{{"daemon-reload"}, {"enable", "--now", UnitName}} {
			if _, err := s.Host.Run(ctx, host.Command{Name: "systemctl", Args: args}); err != nil {
				return err
			}
		}
		return nil
	}
	if pid, err := s.supervisorPID(); err != nil || pid > 0 {
		return err
	}
	pid, err := s.Host.Start(ctx, s.supervisorCommand(), s.Layout.LogFile())
	if err != nil {
		return err
	}
	return s.Host.WriteFile(ctx, s.Layout.PIDFile(), []byte(strconv.Itoa(pid)+"\n"), 0o600)
}

// Running reports whether the service runs, and the supervisor's PID where there is no systemd.
func (s Service) Running(ctx context.Context) (bool, int, error) {
	if host.HasSystemd(s.Host) {
		_, err := s.Host.Run(ctx, host.Command{Name: "systemctl", Args: []string{"is-active", "--quiet", UnitName}})
		return err == nil, 0, nil
	}
	pid, err := s.supervisorPID()
	return pid > 0, pid, err
}

// supervisorPID is the PID of the running supervisor, or 0. A PID file whose process is gone, or
// is no longer the supervisor (PIDs are reused), counts as not running.
func (s Service) supervisorPID() (int, error) {
	data, err := s.Host.ReadFile(s.Layout.PIDFile())
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read supervisor pid: %w", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 1 {
		return 0, nil
	}
	if !processAlive(s.Host, pid) {
		return 0, nil
	}
	cmdline, err := s.Host.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || !strings.Contains(string(cmdline), s.Layout.Self()+"\x00supervise\x00") {
		return 0, nil
	}
	return pid, nil
}

// Stop stops the service and its k0s, and removes the unit or PID file. Stopping a service that
// does not run is not an error. Pods' containers outlive k0s; Reset removes them.
func (s Service) Stop(ctx context.Context) error {
	if ok, _ := s.Host.Exists(unitFile); ok {
		if _, err := s.Host.Run(ctx, host.Command{Name: "systemctl", Args: []string{"disable", "--now", UnitName}}); err != nil {
			return err
		}
		if err := s.Host.RemoveAll(ctx, unitFile); err != nil {
			return err
		}
		_, err := s.Host.Run(ctx, host.Command{Name: "systemctl", Args: []string{"daemon-reload"}})
		return err
	}
	pid, err := s.supervisorPID()
	if err != nil {
		return err
	}
	if pid > 0 {
		// The supervisor forwards SIGTERM to k0s, which stops its components, then exits.
		if err := s.Host.Signal(ctx, pid, syscall.SIGTERM); err != nil {
			return err
		}
		if !s.waitGone(ctx, pid) {
			// Its session holds k0s and everything k0s started.
			if err := s.Host.Signal(ctx, -pid, syscall.SIGKILL); err != nil {
				return err
			}
			s.waitGone(ctx, pid)
		}
	}
	return s.Host.RemoveAll(ctx, s.Layout.PIDFile())
}

// waitGone waits up to StopTimeout (90 s when unset) for process pid to exit.
func (s Service) waitGone(ctx context.Context, pid int) bool {
	return wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, cmp.Or(s.StopTimeout, 90*time.Second), true, func(context.Context) (bool, error) {
		return !processAlive(s.Host, pid), nil
	}) == nil
}
