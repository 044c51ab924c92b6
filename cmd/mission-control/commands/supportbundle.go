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
	"github.com/datastax/mission-control/internal/progress"
	"github.com/datastax/mission-control/supportbundle"
)

type supportBundleOptions struct {
	dataDir, out string
}

func newSupportBundleCmd(streams cli.Streams, deps Deps, g *cli.GlobalFlags) *cobra.Command {
	o := &supportBundleOptions{dataDir: datadir.Default}
	c := &cobra.Command{
		Use:   "support-bundle",
		Short: "Collect this host's and its cluster's diagnostics into one redacted archive",
		Long: `Collect a support bundle with the troubleshoot library: the host (OS, kernel, CPUs, memory, disk,
mounts, routes, links, nftables and iptables rules, the runtime's logs, k0s status, the install
journal, preflight results, configuration and the license without its signature) and, when its API
answers, the cluster (resources, events, MissionControlClusters, K8ssandraClusters,
CassandraDatacenters, ClientConfigs, logs of the operators and the runtime's pods).
Credentials, tokens, private keys and passwords are redacted. Analyzers judge the bundle and a
summary prints at the end. A collector that fails is recorded in the bundle; when the API does
not answer, the bundle still holds the host part and says why. The archive opens with
troubleshoot's own tooling (support-bundle analyze, sbctl).`,
		Example: `  # Collect into ./mission-control-support-bundle-HOST-TIME.tar.gz:
  sudo mission-control support-bundle

  # Collect into a chosen file:
  sudo mission-control support-bundle --out /tmp/case-1234.tar.gz`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error { return runSupportBundle(c.Context(), streams, deps, g, o) },
	}
	fs := c.Flags()
	fs.StringVar(&o.dataDir, "data-dir", o.dataDir, "data dir of the install to collect (e.g. --data-dir /data/mission-control)")
	fs.StringVar(&o.out, "out", "", "archive to write; default mission-control-support-bundle-HOST-TIME.tar.gz here (e.g. --out /tmp/case-1234.tar.gz)")
	return c
}

func runSupportBundle(ctx context.Context, streams cli.Streams, deps Deps, g *cli.GlobalFlags, o *supportBundleOptions) error {
	if err := installer.ValidateDataDir(o.dataDir); err != nil {
		return err // a system directory would be collected as if it were the data dir
	}
	if deps.Geteuid() != 0 { // not requireRoot: it reads, it changes nothing but its archive
		return errors.New("support-bundle reads the runtime's files and must run as root: run it again with sudo")
	}
	report := func(msg string) { fmt.Fprintf(streams.Err, "  %s\n", msg) }
	if g.Quiet {
		report = func(string) {}
	} else {
		fmt.Fprintf(streams.Err, "Collecting a support bundle of %s\n", o.dataDir)
	}
	started := deps.Now()
	r, err := deps.SupportBundle(ctx, supportbundle.Options{DataDir: o.dataDir, Out: o.out, Host: deps.Host,
		Progress: report, APITimeout: 30 * time.Second, Now: deps.Now})
	if err != nil {
		return err
	}
	return printSupportBundle(streams.Out, r, deps.Now().Sub(started))
}

func printSupportBundle(w io.Writer, r supportbundle.Result, took time.Duration) error {
	if len(r.Analysis) > 0 {
		fmt.Fprintf(w, "%-28s %-6s %s\n", "ANALYZER", "RESULT", "DETAIL")
		for _, a := range r.Analysis {
			fmt.Fprintf(w, "%-28s %-6s %s\n", a.Check, strings.ToUpper(string(a.Status)), a.Message)
		}
		fmt.Fprintln(w)
	}
	if r.ClusterError != nil {
		fmt.Fprintf(w, "Cluster not collected: %v\n(the bundle holds the host part and this error)\n", r.ClusterError)
	}
	_, err := fmt.Fprintf(w, "Support bundle written to %s (%s) in %s\n", r.Archive, progress.Size(r.Size), took.Round(100*time.Millisecond))
	return err
}
