package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/datastax/mission-control/installer"
	"github.com/datastax/mission-control/internal/cli"
	"github.com/datastax/mission-control/internal/datadir"
	"github.com/datastax/mission-control/internal/host"
	"github.com/datastax/mission-control/internal/localvolume"
	"github.com/datastax/mission-control/internal/progress"
	"github.com/datastax/mission-control/runtime/k0s"
)

type resetOptions struct {
	dataDir      string
	yes          bool
	dryRun       bool
	resetTimeout time.Duration
	output       cli.Output
}

func newResetCmd(streams cli.Streams, deps Deps, g *cli.GlobalFlags) *cobra.Command {
	o := &resetOptions{dataDir: datadir.Default, resetTimeout: k0s.ResetTimeout}
	c := &cobra.Command{
		Use:   "reset",
		Short: "Remove mission-control from this host, so that it can be installed again",
		Long: `Remove everything install created, in reverse order, including what a failed or interrupted
install left behind, and finally the data dir. A joined worker, or a controller with others
beside it, first leaves its cluster while its runtime still runs (its node drained and deleted,
a controller's etcd member removed); the cluster's last controller takes the cluster with it.
Reset refuses a data dir that holds no mission-control install, and succeeds with nothing to do
when there is no install.`,
		Example: `  # Remove the install, after confirming:
  sudo mission-control reset

  # See what would be removed:
  mission-control reset --dry-run

  # Remove an install with a custom data dir, without a prompt:
  sudo mission-control reset --data-dir /data/mission-control --yes`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return runReset(c.Context(), streams, deps, g, o)
		},
	}
	c.Flags().StringVar(&o.dataDir, "data-dir", o.dataDir, "data dir of the install to remove (e.g. --data-dir /data/mission-control)")
	c.Flags().BoolVar(&o.yes, "yes", false, "do not ask for confirmation (e.g. for scripts)")
	c.Flags().BoolVar(&o.dryRun, "dry-run", false, "print what would be removed; change nothing")
	c.Flags().DurationVar(&o.resetTimeout, "runtime-timeout", o.resetTimeout, "how long the runtime may take to reset itself before reset ends its processes and removes its mounts and files without it (e.g. --runtime-timeout 1m)")
	cli.BindOutput(c, &o.output)
	return c
}

type resetSummary struct {
	DryRun  bool               `json:"dryRun,omitempty"`
	Reset   bool               `json:"reset"`
	DataDir string             `json:"dataDir"`
	Steps   []installer.Result `json:"steps,omitempty"`
	Changes []host.Op          `json:"changes,omitempty"`
}

func runReset(ctx context.Context, streams cli.Streams, deps Deps, g *cli.GlobalFlags, o *resetOptions) error {
	if o.resetTimeout < time.Second {
		return fmt.Errorf("--runtime-timeout %s is too short: give at least 1s (e.g. --runtime-timeout 1m)", o.resetTimeout)
	}
	env, err := newEnv(streams, deps, g, deps.WaitTimeout)
	if err != nil {
		return err
	}
	env.ResetTimeout = o.resetTimeout
	r := installer.Reset{DataDir: o.dataDir, Env: env}
	var rec *host.Recorder
	if o.dryRun {
		rec = host.NewRecorder(deps.Host)
		r.Env.Host = rec
		r.Env.Progress = progress.New(streams.Err, progress.Quiet)
	} else {
		if err := requireRoot(deps, "reset"); err != nil {
			return err
		}
		r.Env.Host = deps.Host
		r.Env.Progress = g.Progress(streams.Err, o.output)
		r.Confirm = func(s installer.State) error {
			what := "the mission-control install"
			if s.Mode != "" {
				what = fmt.Sprintf("mission-control (%s, pods %s, services %s)", s.Mode, s.PodCIDR, s.ServiceCIDR)
			}
			if o.yes {
				return nil // no question: nothing to count for it
			}
			volumes, err := volumesToDelete(deps.Host, o.dataDir)
			if err != nil {
				return err
			}
			return confirm(streams, deps, o.yes, "reset", fmt.Sprintf("Remove %s and everything in %s%s?\n", what, o.dataDir, volumes))
		}
	}
	results, err := r.Run(ctx)
	summary := resetSummary{DryRun: o.dryRun, DataDir: o.dataDir, Steps: results}
	switch {
	case errors.Is(err, installer.ErrNotInstalled):
		return o.output.Print(streams.Out, summary, func(w io.Writer) error {
			_, err := fmt.Fprintf(w, "Nothing to reset: mission-control is not installed in %s.\n", o.dataDir)
			return err
		})
	case err != nil:
		return err
	}
	summary.Reset = !o.dryRun
	if rec != nil {
		summary.Changes = rec.Ops()
	}
	return o.output.Print(streams.Out, summary, func(w io.Writer) error {
		if o.dryRun {
			fmt.Fprintln(w, "Dry run: nothing was changed. Reset would:")
			for _, op := range summary.Changes {
				fmt.Fprintf(w, "  %-22s %s\n", op.Step, op)
			}
			return nil
		}
		_, err := fmt.Fprintf(w, "Reset complete: mission-control was removed from %s. The host is ready for a new install.\n", o.dataDir)
		return err
	})
}

// volumesToDelete says what data reset deletes with the data dir: this node's volumes, the bytes
// they hold, and whose they are.
func volumesToDelete(r host.Reader, dataDir string) (string, error) {
	volumes, err := localvolume.List(r, datadir.Layout{DataDir: dataDir}.StorageDir())
	if err != nil || len(volumes) == 0 {
		return "", err
	}
	var total int64
	claims := make([]string, len(volumes))
	for i, v := range volumes {
		total += v.UsedBytes
		claims[i] = fmt.Sprintf("%s/%s %s", v.Namespace, v.Claim, progress.Size(v.UsedBytes))
	}
	return fmt.Sprintf(", including %d volumes holding %s of data (%s)", len(volumes), progress.Size(total), strings.Join(claims, ", ")), nil
}
