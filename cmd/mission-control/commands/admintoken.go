package commands

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/datastax/mission-control/installer"
	"github.com/datastax/mission-control/internal/cli"
	"github.com/datastax/mission-control/internal/datadir"
)

func newAdminTokenCmd(streams cli.Streams, deps Deps) *cobra.Command {
	dataDir, lifetime := datadir.Default, 8*time.Hour
	var output cli.Output
	c := &cobra.Command{
		Use:   "admin-token",
		Short: "Print a token for the first administrator to sign in to the Mission Control UI",
		Long: `Issue a Kubernetes token of the mission-control-admin ServiceAccount (bound to the
mission-control-admin ClusterRole: every MissionControlCluster, and the registered data planes) and
print where the UI is. The token is a credential until it expires (--duration). Give other users
their own identities (ServiceAccounts or OIDC users) and bind them mission-control-admin or
mission-control-viewer: what they may do in the UI is what Kubernetes RBAC allows them.`,
		Example: `  sudo mission-control admin-token
  sudo mission-control admin-token --duration 1h -o json`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if err := requireRoot(deps, "admin-token"); err != nil {
				return err
			}
			s, err := installer.AdminToken(c.Context(), deps.Host, dataDir, lifetime)
			if err != nil {
				return err
			}
			return output.Print(streams.Out, s, func(w io.Writer) error {
				_, err := fmt.Fprintf(w, "Open %s and sign in with this token of %s (valid until %s; it is a credential):\n\n%s\n",
					s.URL, s.User, s.Expires.UTC().Format(time.RFC3339), s.Token)
				return err
			})
		},
	}
	c.Flags().StringVar(&dataDir, "data-dir", dataDir, "data dir of the control plane's install (e.g. --data-dir /data/mission-control)")
	c.Flags().DurationVar(&lifetime, "duration", lifetime, "how long the token is valid, 10m to 168h (e.g. --duration 1h)")
	cli.BindOutput(c, &output)
	return c
}
