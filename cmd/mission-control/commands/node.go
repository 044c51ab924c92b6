package commands

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/datastax/mission-control/installer"
	"github.com/datastax/mission-control/internal/cli"
	"github.com/datastax/mission-control/internal/datadir"
	"github.com/datastax/mission-control/runtime/k0s"
)

func newNodeCmd(streams cli.Streams, deps Deps) *cobra.Command {
	c := &cobra.Command{
		Use:   "node",
		Short: "Add nodes to this cluster, or remove them",
		Long: `Manage the nodes of the cluster whose controller is this host: print the command that joins a
new host, or remove a node. mission-control status lists the nodes.`,
		Args: cobra.NoArgs,
	}
	c.AddCommand(newJoinCommandCmd(streams, deps), newNodeRemoveCmd(streams, deps))
	return c
}

type joinCommandOptions struct {
	dataDir string
	role    string
	expiry  time.Duration
	out     string
	output  cli.Output
}

func newJoinCommandCmd(streams cli.Streams, deps Deps) *cobra.Command {
	o := &joinCommandOptions{dataDir: datadir.Default, role: k0s.RoleWorker, expiry: 24 * time.Hour}
	c := &cobra.Command{
		Use:   "join-command",
		Short: "Print the command that joins a new host to this cluster",
		Long: `Make a join token for a new node and print the command to run on the new host. The token is a
credential until it expires (--expiry): it holds the controller's address, the cluster's CA (its
pin is printed, and join shows it again) and a bootstrap token. With --out it is written to a file
(root only) to copy to the new host; otherwise the printed command carries it. It is refused
when the cluster already has every node its license covers.

A controller runs the API, etcd and a worker. etcd needs a majority of the controllers up: one
controller tolerates none down, two still none (either one down stops the API), three tolerate
one. The command warns when the join leaves an even number of controllers: join a third next.`,
		Example: `  sudo mission-control node join-command --role worker --out worker.token
  sudo mission-control node join-command --role controller --out controller.token
  sudo mission-control node join-command --role worker --expiry 2h -o json`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := requireRoot(deps, "node join-command"); err != nil {
				return err
			}
			ticket, err := installer.NewJoinToken(c.Context(), deps.Host, o.dataDir, o.role, o.expiry, deps.Now())
			if err != nil {
				return err
			}
			if ticket.Warning != "" {
				fmt.Fprintf(streams.Err, "Warning: %s\n", ticket.Warning)
			}
			arg := ticket.Token
			if o.out != "" {
				if err := deps.Host.WriteFile(c.Context(), o.out, []byte(ticket.Token+"\n"), 0o600); err != nil {
					return fmt.Errorf("--out: %w", err)
				}
				arg = o.out
			}
			return o.output.Print(streams.Out, ticket, func(w io.Writer) error {
				fmt.Fprintf(w, "Join a %s to the cluster at %s (token %s, valid until %s; CA %s).\n",
					ticket.Role, ticket.Server, ticket.TokenID, ticket.Expires.Format(time.RFC3339), ticket.CAPin)
				if o.out != "" {
					fmt.Fprintf(w, "Copy %s to the new host (it is a credential), then run there:\n\n", o.out)
				} else {
					fmt.Fprintf(w, "Run on the new host (the token is a credential):\n\n")
				}
				_, err := fmt.Fprintf(w, "  sudo mission-control join --license license.yaml %s\n", arg)
				return err
			})
		},
	}
	fs := c.Flags()
	fs.StringVar(&o.dataDir, "data-dir", o.dataDir, "data dir of the controller's install (e.g. --data-dir /data/mission-control)")
	fs.StringVar(&o.role, "role", o.role, "role of the new node: worker, or controller (the API, etcd and a worker) (e.g. --role controller)")
	fs.DurationVar(&o.expiry, "expiry", o.expiry, "how long the token may be used, 1m to 168h (e.g. --expiry 2h)")
	fs.StringVar(&o.out, "out", "", "write the token to this file (mode 0600) instead of printing it (e.g. --out worker.token)")
	cli.BindOutput(c, &o.output)
	return c
}

func newNodeRemoveCmd(streams cli.Streams, deps Deps) *cobra.Command {
	dataDir, timeout := datadir.Default, deps.WaitTimeout
	c := &cobra.Command{
		Use:   "remove NAME",
		Short: "Drain a node and remove it from the cluster",
		Long: `Drain the node (cordon it, then evict its pods through the eviction API, which keeps
PodDisruptionBudgets) and delete it from the cluster; a controller's etcd member is removed
too (the command warns when an even number of controllers is left). The host itself is not
changed: reset it there with mission-control reset (which, run first, leaves the cluster itself
when the cluster answers).`,
		Example: `  sudo mission-control node remove worker-2`,
		Args:    cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if err := requireRoot(deps, "node remove"); err != nil {
				return err
			}
			detail, err := installer.NodeRemoval(c.Context(), deps.Host, dataDir, args[0], timeout, func(s string) { fmt.Fprintln(streams.Err, s) })
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(streams.Out, detail)
			return err
		},
	}
	c.Flags().StringVar(&dataDir, "data-dir", dataDir, "data dir of the controller's install (e.g. --data-dir /data/mission-control)")
	c.Flags().DurationVar(&timeout, "timeout", timeout, "how long the drain may take before remove fails naming the pods left (e.g. --timeout 10m)")
	return c
}
