package k0s

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/datastax/mission-control/internal/host"
)

// Supervision tunes Supervise.
type Supervision struct {
	// StopTimeout is how long a stopping child gets before it is killed.
	StopTimeout time.Duration
	// MaxBackoff caps the wait between restarts, which doubles from one second while the child
	// keeps failing and starts over once it has run for StableAfter.
	MaxBackoff  time.Duration
	StableAfter time.Duration
}

// DefaultSupervision suits k0s: it needs time to stop its components cleanly.
var DefaultSupervision = Supervision{StopTimeout: 60 * time.Second, MaxBackoff: 30 * time.Second, StableAfter: time.Minute}

// Supervise runs cmd, restarting it whenever it exits, until ctx is cancelled; then it sends the
// child SIGTERM and, after StopTimeout, SIGKILL. This is the runtime's service manager where
// there is no systemd, so it is the one place besides host.System that starts processes.
func Supervise(ctx context.Context, cmd host.Command, log io.Writer, opts Supervision) error {
	backoff := time.Second
	for {
		started := time.Now()
		child := exec.Command(cmd.Name, cmd.Args...)
		child.Env = append(os.Environ(), cmd.Env...)
		child.Stdout, child.Stderr = log, log
		if err := child.Start(); err != nil {
			fmt.Fprintf(log, "supervisor: cannot start %s: %v\n", cmd.Name, err)
		} else {
			fmt.Fprintf(log, "supervisor: started %s (pid %d)\n", cmd.Name, child.Process.Pid)
			exited := make(chan error, 1)
			go func() { exited <- child.Wait() }()
			select {
			case err := <-exited:
				fmt.Fprintf(log, "supervisor: %s exited after %s: %v\n", cmd.Name, time.Since(started).Round(time.Second), err)
			case <-ctx.Done():
				fmt.Fprintf(log, "supervisor: stopping %s\n", cmd.Name)
				_ = child.Process.Signal(syscall.SIGTERM)
				select {
				case <-exited:
				case <-time.After(opts.StopTimeout):
					fmt.Fprintf(log, "supervisor: %s did not stop within %s; killing it\n", cmd.Name, opts.StopTimeout)
					_ = child.Process.Kill()
					<-exited
				}
				fmt.Fprintln(log, "supervisor: stopped")
				return nil
			}
		}
		if time.Since(started) >= opts.StableAfter {
			backoff = time.Second
		}
		fmt.Fprintf(log, "supervisor: restarting in %s\n", backoff)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, opts.MaxBackoff)
	}
}
