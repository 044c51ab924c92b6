package commands

import (
	"github.com/spf13/cobra"

	"github.com/datastax/mission-control/installer"
	"github.com/datastax/mission-control/internal/cli"
)

func newJoinCmd(streams cli.Streams, deps Deps, g *cli.GlobalFlags) *cobra.Command {
	o := &installOptions{cfg: installer.DefaultConfig(), waitTimeout: deps.WaitTimeout, verb: "join"}
	o.cfg.Joined, o.cfg.CIDR = true, ""
	c := &cobra.Command{
		Use:   "join TOKEN-FILE|TOKEN",
		Short: "Join this host to a mission-control cluster as a worker or a controller",
		Long: `Join this host to the cluster of a mission-control controller, as a worker or a controller:
the token's role (node join-command --role).

Print the join token on the controller with mission-control node join-command. The token, the
cluster it names (reached with the token's own, read-only rights: its license, mode, ranges and
nodes), the license (the cluster's, whose node limit the join must not pass) and this host are
checked first; nothing changes until all checks pass and you confirm (or pass --yes). The host
then gets the same runtime install stages (and, with --airgap-bundle, the same bundle's images),
and k0s joins: a worker, or a controller (its etcd member joins the cluster's etcd; a controller's
token is good only for k0s' join API, which hands out the cluster's CA: the checks sign with it a
ten-minute certificate that reads what a worker's token reads). Progress is journaled like
install's: running join again resumes, and reset leaves the cluster (the node is drained and
deleted there, a controller's etcd member removed) and undoes the join.`,
		Example: `  # On the controller: print the join command, with a token valid for a day
  sudo mission-control node join-command --role worker --out worker.token

  # On the new host, with the token file copied there:
  sudo mission-control join --license license.yaml worker.token

  # A controller, with a token from node join-command --role controller:
  sudo mission-control join --license license.yaml controller.token

  # See what it would do first (it reads the cluster, and changes nothing):
  sudo mission-control join --license license.yaml worker.token --dry-run`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			token, err := installer.ReadJoinToken(deps.Host, args[0])
			if err != nil {
				return err
			}
			o.cfg.JoinToken, o.cfg.Role = args[0], token.Role
			return runInstall(c.Context(), streams, deps, g, o)
		},
	}
	fs := c.Flags()
	fs.StringVar(&o.cfg.LicenseFile, "license", "", "the cluster's license file; required (e.g. --license license.yaml)")
	fs.StringVar(&o.cfg.DataDir, "data-dir", o.cfg.DataDir, "directory for all mission-control state; reset removes it (e.g. --data-dir /data/mission-control)")
	fs.StringVar(&o.cfg.NetworkInterface, "network-interface", "", "interface whose IPv4 address the node uses; default: the default route's (e.g. --network-interface eth1)")
	fs.StringVar(&o.cfg.AirgapBundle, "airgap-bundle", "", "the air-gap bundle the cluster was installed from (required then, and refused otherwise): verified and its images staged as install does (e.g. --airgap-bundle mission-control-v1.0.0.airgap)")
	fs.StringVar(&o.cfg.VolumeSpace, "volume-space", o.cfg.VolumeSpace, "room the database's volumes need on the data dir's filesystem, counted by the disk preflight (e.g. --volume-space 500Gi)")
	fs.BoolVar(&o.yes, "yes", false, "do not ask for confirmation before changing the host (e.g. for scripts)")
	fs.BoolVar(&o.cfg.IgnoreHostPreflights, "ignore-host-preflights", false, "join even if host preflights fail (not implied by --yes)")
	fs.BoolVar(&o.dryRun, "dry-run", false, "print the plan and every file it would write; change nothing (e.g. --dry-run -o yaml)")
	fs.DurationVar(&o.waitTimeout, "wait-timeout", o.waitTimeout, "how long the wait for the node to be Ready may take (e.g. --wait-timeout 3m)")
	cli.BindOutput(c, &o.output)
	return c
}
