package commands

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/datastax/mission-control/installer"
	"github.com/datastax/mission-control/internal/cli"
	"github.com/datastax/mission-control/internal/datadir"
	"github.com/datastax/mission-control/internal/host"
	"github.com/datastax/mission-control/runtime/k0s"
)

// newSuperviseCmd is the runtime's service manager where there is no systemd; install starts it
// from the copy of this binary in the data dir.
func newSuperviseCmd(streams cli.Streams) *cobra.Command {
	return &cobra.Command{
		Use:     "supervise -- COMMAND [ARG...]",
		Short:   "Run a command and restart it when it exits, until SIGTERM (used by the runtime service)",
		Example: "  mission-control supervise -- /var/lib/mission-control/k0s/bin/k0s controller --single",
		Hidden:  true,
		Args:    cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(c.Context(), syscall.SIGTERM, syscall.SIGINT)
			defer stop()
			return k0s.Supervise(ctx, host.Command{Name: args[0], Args: args[1:]}, streams.Out, k0s.DefaultSupervision)
		},
	}
}

func newShellCmd(streams cli.Streams, deps Deps) *cobra.Command {
	dataDir := datadir.Default
	c := &cobra.Command{
		Use:   "shell [-- COMMAND [ARG...]]",
		Short: "Open a shell (or run a command) with kubectl and the cluster's admin kubeconfig",
		Long: `Open your shell ($SHELL, else /bin/sh) with KUBECONFIG set to the install's admin kubeconfig
and kubectl on PATH, or run one command that way. The kubeconfig is readable by root only.`,
		Example: `  sudo mission-control shell
  sudo mission-control shell -- kubectl get pods -A
  sudo mission-control shell --data-dir /data/mission-control -- kubectl get nodes -o wide`,
		RunE: func(_ *cobra.Command, args []string) error { return runShell(streams, deps, dataDir, args) },
	}
	c.Flags().StringVar(&dataDir, "data-dir", dataDir, "data dir of the install (e.g. --data-dir /data/mission-control)")
	return c
}

func runShell(streams cli.Streams, deps Deps, dataDir string, args []string) error {
	cmd, err := installer.Shell(deps.Host, dataDir, args, os.Getenv("SHELL"), os.Getenv("PATH"))
	if err != nil {
		return err
	}
	if len(args) == 0 {
		fmt.Fprintf(streams.Err, "mission-control shell: KUBECONFIG=%s, kubectl on PATH; exit to leave.\n", datadir.Layout{DataDir: dataDir}.Kubeconfig())
	}
	return host.Exec(cmd)
}
