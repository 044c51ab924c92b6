// Package mcctl is the mcctl command tree: it registers mission-control data planes with a
// control plane (package registration does the work).
package commands

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/datastax/mission-control/internal/cli"
	"github.com/datastax/mission-control/internal/contract"
	"github.com/datastax/mission-control/internal/version"
	"github.com/datastax/mission-control/registration"
)

// Run runs mcctl with args and returns the exit status.
func Run(ctx context.Context, streams cli.Streams, args []string) int {
	return cli.Execute(ctx, newRootCmd(streams), streams, args)
}

func newRootCmd(streams cli.Streams) *cobra.Command {
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

// registrationOptions are the flags register and deregister share.
type registrationOptions struct {
	registration.Options
	// namespace is both sides' namespace unless --source-namespace or --dest-namespace differ.
	namespace string
}

func (o *registrationOptions) bind(c *cobra.Command) {
	f := c.Flags()
	f.StringVar(&o.Source.Context, "source-context", "", "kubeconfig context of the data plane that grants access (e.g. DP_WEST)")
	f.StringVar(&o.Dest.Context, "dest-context", "", "kubeconfig context of the control plane that receives it (e.g. CP_EAST)")
	f.StringVar(&o.Source.Kubeconfig, "source-kubeconfig", "", "kubeconfig file of the source context; default $KUBECONFIG, then ~/.kube/config (e.g. --source-kubeconfig west.yaml)")
	f.StringVar(&o.Dest.Kubeconfig, "dest-kubeconfig", "", "kubeconfig file of the dest context; default $KUBECONFIG, then ~/.kube/config (e.g. --dest-kubeconfig east.yaml)")
	f.StringVar(&o.namespace, "namespace", contract.Namespace, "namespace mission-control runs in, on both sides (e.g. --namespace mission-control)")
	f.StringVar(&o.Source.Namespace, "source-namespace", "", "the source's namespace, if it differs from --namespace (e.g. --source-namespace mc-west)")
	f.StringVar(&o.Dest.Namespace, "dest-namespace", "", "the dest's namespace, if it differs from --namespace (e.g. --dest-namespace mc-east)")
	f.StringVar(&o.Name, "name", "", "the registration's name on the control plane; default: the source context in DNS form (e.g. --name dp-west)")
	f.BoolVar(&o.InsecureSkipTLSVerify, "insecure-skip-tls-verify", false, "accept a kubeconfig that skips verifying its API server (mcctl warns; the control plane still verifies the data plane, with the CA it publishes)")
}

// resolved is the library's options, each side's namespace filled in.
func (o *registrationOptions) resolved() registration.Options {
	r := o.Options
	for _, e := range []*registration.Endpoint{&r.Source, &r.Dest} {
		if e.Namespace == "" {
			e.Namespace = o.namespace
		}
	}
	return r
}

func newRegisterCmd(streams cli.Streams) *cobra.Command {
	o := &registrationOptions{}
	c := &cobra.Command{
		Use:   "register",
		Short: "Register a data plane with a control plane",
		Long: `register makes, on the data plane, a service account for the control plane with only the rights
the mission-control-operator needs there, only in --database-namespaces (a Role in each; Secrets
it may create, replace and delete but never read, and only its own, by an admission policy), and a
token for it (valid --token-lifetime, bound to a Secret so that deleting the Secret revokes it;
the tokens of earlier runs are revoked once the new one is recorded); and, on the control plane, the Secret <name>-config
holding a kubeconfig with that token and the ClientConfig <name> naming it. Both clusters are
checked first (each runs mission-control in its mode, and their pod ranges overlap neither the
other's pods nor its Services, nor the pods of the clusters already registered with either); the
new credential is checked before the control plane is written. Then it routes each cluster's pods
to the other's: every node of each peers with every node of the other over BGP (kube-router's
node annotations, kube-router restarted to read them) and sends to the other's pods from its pods'
own addresses (ConfigMap kube-system/mission-control-peers, read by the pod network's peering
agent). Running it again issues a new token, rewrites the server and CA, and peers nodes added
since.`,
		Example: `  mcctl register --source-context DP_WEST --dest-context CP_EAST
  mcctl register --source-context DP_WEST --dest-context CP_EAST --database-namespaces db,default
  mcctl register --source-context DP_WEST --dest-context CP_EAST --source-server https://10.1.2.3:6443
  mcctl register --source-kubeconfig west.yaml --source-context DP_WEST --dest-kubeconfig east.yaml --dest-context CP_EAST`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error { return runRegister(c.Context(), streams, o) },
	}
	o.bind(c)
	c.Flags().StringVar(&o.SourceServer, "source-server", "", "API address the control plane reaches the data plane at, when the kubeconfig's is not (e.g. https://10.1.2.3:6443)")
	c.Flags().DurationVar(&o.TokenLifetime, "token-lifetime", registration.DefaultTokenLifetime, "how long the control plane's token is valid (e.g. 720h)")
	c.Flags().StringSliceVar(&o.DatabaseNamespaces, "database-namespaces", nil, "the data plane's namespaces the control plane may place clusters in: those of its MissionControlClusters; default: those registered before, else "+registration.DefaultDatabaseNamespace+" (e.g. --database-namespaces db,default)")
	return c
}

func runRegister(ctx context.Context, streams cli.Streams, o *registrationOptions) error {
	opts := o.resolved()
	opts.Warn = func(msg string) { fmt.Fprintf(streams.Err, "Warning: %s\n", msg) }
	res, err := registration.Register(ctx, opts)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(streams.Out, "Registered %s with %s as ClientConfig %s/%s (server %s).\nIts credential acts in %s's namespaces %s only.\nTheir pods reach each other: %s of %s and %s of %s peer over BGP (run this command again after adding nodes).\nIts token is valid until %s: run this command again before then.\n",
		opts.Source.Context, opts.Dest.Context, opts.Dest.Namespace, res.Name, res.Server, opts.Source.Context, strings.Join(res.Namespaces, ", "),
		nodes(res.SourceNodes), opts.Source.Context, nodes(res.DestNodes), opts.Dest.Context, res.TokenExpiresAt.UTC().Format(time.DateOnly))
	if err == nil && res.Revoked > 0 {
		tokens := "token"
		if res.Revoked > 1 {
			tokens = fmt.Sprintf("%d tokens", res.Revoked)
		}
		_, err = fmt.Fprintf(streams.Out, "Revoked the earlier %s of %s.\n", tokens, res.ServiceAccount)
	}
	return err
}

func nodes(n int) string {
	if n == 1 {
		return "1 node"
	}
	return fmt.Sprintf("%d nodes", n)
}

func newDeregisterCmd(streams cli.Streams) *cobra.Command {
	o := &registrationOptions{}
	c := &cobra.Command{
		Use:     "deregister",
		Short:   "Remove a data plane's registration from both clusters",
		Example: "  mcctl deregister --source-context DP_WEST --dest-context CP_EAST",
		Args:    cobra.NoArgs,
		RunE:    func(c *cobra.Command, _ []string) error { return runDeregister(c.Context(), streams, o) },
	}
	o.bind(c)
	return c
}

func runDeregister(ctx context.Context, streams cli.Streams, o *registrationOptions) error {
	opts := o.resolved()
	if err := registration.Deregister(ctx, opts); err != nil {
		return err
	}
	_, err := fmt.Fprintf(streams.Out, "Deregistered %s from %s.\n", opts.Source.Context, opts.Dest.Context)
	return err
}

type dataPlanesOptions struct {
	dest registration.Endpoint
	out  cli.Output
}

func newDataPlanesCmd(streams cli.Streams) *cobra.Command {
	o := &dataPlanesOptions{}
	c := &cobra.Command{
		Use:     "dataplanes",
		Aliases: []string{"dp"},
		Short:   "List the data planes registered with a control plane, and whether each answers",
		Example: "  mcctl dataplanes --dest-context CP_EAST\n  mcctl dataplanes --dest-context CP_EAST -o json",
		Args:    cobra.NoArgs,
		RunE:    func(c *cobra.Command, _ []string) error { return runDataPlanes(c.Context(), streams, o) },
	}
	c.Flags().StringVar(&o.dest.Context, "dest-context", "", "kubeconfig context of the control plane (e.g. CP_EAST)")
	c.Flags().StringVar(&o.dest.Kubeconfig, "dest-kubeconfig", "", "kubeconfig file; default $KUBECONFIG, then ~/.kube/config (e.g. --dest-kubeconfig east.yaml)")
	c.Flags().StringVar(&o.dest.Namespace, "namespace", contract.Namespace, "namespace mission-control runs in (e.g. --namespace mission-control)")
	cli.BindOutput(c, &o.out)
	return c
}

func runDataPlanes(ctx context.Context, streams cli.Streams, o *dataPlanesOptions) error {
	planes, err := registration.List(ctx, o.dest, 10*time.Second)
	if err != nil {
		return err
	}
	return o.out.Print(streams.Out, planes, func(w io.Writer) error {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tCONTEXT\tSERVER\tNAMESPACES\tTOKEN EXPIRES\tREACHABLE")
		for _, p := range planes {
			reach := "yes"
			if !p.Reachable {
				reach = "no: " + p.Error
			}
			expires := "unknown"
			if p.TokenExpires != nil {
				expires = p.TokenExpires.UTC().Format(time.DateOnly)
			}
			namespaces := strings.Join(p.Namespaces, ",")
			if namespaces == "" {
				namespaces = "none (register again)"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", p.Name, p.Context, p.Server, namespaces, expires, reach)
		}
		return tw.Flush()
	})
}
