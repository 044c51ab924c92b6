package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/datastax/mission-control/internal/version"
	"github.com/datastax/mission-control/operators/registration"
)

// MCCtlMain runs mcctl with the process's arguments and exits with its status.
func MCCtlMain() {
	os.Exit(RunMCCtl(context.Background(), Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}, os.Args[1:]))
}

// RunMCCtl runs mcctl and returns the exit status.
func RunMCCtl(ctx context.Context, streams Streams, args []string) int {
	return execute(ctx, newMCCtlCmd(streams), streams, args)
}

func newMCCtlCmd(streams Streams) *cobra.Command {
	root := &cobra.Command{
		Use:   "mcctl",
		Short: "Register mission-control data planes with a control plane",
		Long: `mcctl works across clusters, with the contexts of your kubeconfig: it registers a data plane
(the source, which grants access) with a control plane (the dest, which receives it), so that
MissionControlClusters on the control plane can place datacenters in the data plane by its
context name (k8sContext).`,
		Example: `  mcctl register --source-context DP_WEST --dest-context CP_EAST
  mcctl dataplanes --dest-context CP_EAST
  mcctl deregister --source-context DP_WEST --dest-context CP_EAST`,
	}
	root.AddCommand(newRegisterCmd(streams), newDeregisterCmd(streams), newDataPlanesCmd(streams), &cobra.Command{
		Use: "version", Short: "Show mcctl's version", Example: "  mcctl version", Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			_, err := fmt.Fprintf(streams.Out, "mcctl %s (commit %s)\n", version.Version, version.Commit)
			return err
		},
	})
	return root
}

// bindRegistration binds the flags register and deregister share.
func bindRegistration(c *cobra.Command, o *registration.Options, namespace *string) {
	f := c.Flags()
	f.StringVar(&o.Source.Context, "source-context", "", "kubeconfig context of the data plane that grants access (e.g. DP_WEST)")
	f.StringVar(&o.Dest.Context, "dest-context", "", "kubeconfig context of the control plane that receives it (e.g. CP_EAST)")
	f.StringVar(&o.Source.Kubeconfig, "source-kubeconfig", "", "kubeconfig file of the source context; default $KUBECONFIG, then ~/.kube/config (e.g. --source-kubeconfig west.yaml)")
	f.StringVar(&o.Dest.Kubeconfig, "dest-kubeconfig", "", "kubeconfig file of the dest context; default $KUBECONFIG, then ~/.kube/config (e.g. --dest-kubeconfig east.yaml)")
	f.StringVar(namespace, "namespace", "mission-control", "namespace mission-control runs in, on both sides (e.g. --namespace mission-control)")
	f.StringVar(&o.Source.Namespace, "source-namespace", "", "the source's namespace, if it differs from --namespace (e.g. --source-namespace mc-west)")
	f.StringVar(&o.Dest.Namespace, "dest-namespace", "", "the dest's namespace, if it differs from --namespace (e.g. --dest-namespace mc-east)")
	f.StringVar(&o.Name, "name", "", "the registration's name on the control plane; default: the source context in DNS form (e.g. --name dp-west)")
}

func applyNamespace(o *registration.Options, namespace string) {
	if o.Source.Namespace == "" {
		o.Source.Namespace = namespace
	}
	if o.Dest.Namespace == "" {
		o.Dest.Namespace = namespace
	}
}

func newRegisterCmd(streams Streams) *cobra.Command {
	var o registration.Options
	var namespace string
	c := &cobra.Command{
		Use:   "register",
		Short: "Register a data plane with a control plane",
		Long: `register makes, on the data plane, a service account for the control plane with only the rights
the mission-control-operator needs there, and a token for it (valid --token-lifetime, bound to a
Secret so that deleting the Secret revokes it); and, on the control plane, the Secret <name>-config
holding a kubeconfig with that token and the ClientConfig <name> naming it. Both clusters are
checked first; the new credential is checked before the control plane is written. Running it
again issues a new token and rewrites the server and CA.`,
		Example: `  mcctl register --source-context DP_WEST --dest-context CP_EAST
  mcctl register --source-context DP_WEST --dest-context CP_EAST --source-server https://10.1.2.3:6443
  mcctl register --source-kubeconfig west.yaml --source-context DP_WEST --dest-kubeconfig east.yaml --dest-context CP_EAST`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			applyNamespace(&o, namespace)
			o.Warn = func(msg string) { fmt.Fprintf(streams.Err, "Warning: %s\n", msg) }
			res, err := registration.Register(c.Context(), o)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(streams.Out, "Registered %s with %s as ClientConfig %s/%s (server %s).\nIts token is valid until %s: run this command again before then.\n",
				o.Source.Context, o.Dest.Context, o.Dest.Namespace, res.Name, res.Server, res.TokenExpiresAt.UTC().Format(time.DateOnly))
			return err
		},
	}
	bindRegistration(c, &o, &namespace)
	c.Flags().StringVar(&o.SourceServer, "source-server", "", "API address the control plane reaches the data plane at, when the kubeconfig's is not (e.g. https://10.1.2.3:6443)")
	c.Flags().DurationVar(&o.TokenLifetime, "token-lifetime", registration.DefaultTokenLifetime, "how long the control plane's token is valid (e.g. 720h)")
	return c
}

func newDeregisterCmd(streams Streams) *cobra.Command {
	var o registration.Options
	var namespace string
	c := &cobra.Command{
		Use:     "deregister",
		Short:   "Remove a data plane's registration from both clusters",
		Example: "  mcctl deregister --source-context DP_WEST --dest-context CP_EAST",
		Args:    cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			applyNamespace(&o, namespace)
			if err := registration.Deregister(c.Context(), o); err != nil {
				return err
			}
			_, err := fmt.Fprintf(streams.Out, "Deregistered %s from %s.\n", o.Source.Context, o.Dest.Context)
			return err
		},
	}
	bindRegistration(c, &o, &namespace)
	return c
}

func newDataPlanesCmd(streams Streams) *cobra.Command {
	var dest registration.Endpoint
	var out output
	c := &cobra.Command{
		Use:     "dataplanes",
		Aliases: []string{"dp"},
		Short:   "List the data planes registered with a control plane, and whether each answers",
		Example: "  mcctl dataplanes --dest-context CP_EAST\n  mcctl dataplanes --dest-context CP_EAST -o json",
		Args:    cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if dest.Context == "" {
				return fmt.Errorf("--dest-context is required: name the control plane's kubeconfig context, e.g. --dest-context CP_EAST")
			}
			planes, err := registration.List(c.Context(), dest, 10*time.Second)
			if err != nil {
				return err
			}
			rows := planes
			return out.print(streams.Out, rows, func(w io.Writer) error {
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "NAME\tCONTEXT\tSERVER\tREACHABLE")
				for _, r := range rows {
					reach := "yes"
					if !r.Reachable {
						reach = "no: " + r.Error
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Name, r.Context, r.Server, reach)
				}
				return tw.Flush()
			})
		},
	}
	c.Flags().StringVar(&dest.Context, "dest-context", "", "kubeconfig context of the control plane (e.g. CP_EAST)")
	c.Flags().StringVar(&dest.Kubeconfig, "dest-kubeconfig", "", "kubeconfig file; default $KUBECONFIG, then ~/.kube/config (e.g. --dest-kubeconfig east.yaml)")
	c.Flags().StringVar(&dest.Namespace, "namespace", "mission-control", "namespace mission-control runs in (e.g. --namespace mission-control)")
	bindOutput(c, &out)
	return c
}
