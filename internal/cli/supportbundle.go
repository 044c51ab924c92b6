package cli

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/datastax/mission-control/installer"
	"github.com/datastax/mission-control/internal/check"
)

// SupportBundleOptions say what a support bundle collects and where it goes.
type SupportBundleOptions struct {
	DataDir, Output string
	Progress        func(string)
}

// SupportBundleReport is a collected bundle: the analyzers' verdicts, and why the cluster part
// is missing when it is.
type SupportBundleReport struct {
	Analysis     []check.Result
	ClusterError error
}

func newSupportBundleCmd(streams Streams, deps Deps, g *globalFlags) *cobra.Command {
	var dataDir, output string
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
  sudo mission-control support-bundle -o /tmp/case-1234.tar.gz`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if deps.Geteuid() != 0 { // not requireRoot: it reads, it changes nothing but its archive
				return fmt.Errorf("support-bundle reads the runtime's files and must run as root: run it again with sudo")
			}
			if output == "" {
				hostname, _ := os.Hostname()
				output = fmt.Sprintf("mission-control-support-bundle-%s-%s.tar.gz", hostname, deps.Now().UTC().Format("20060102T150405Z"))
			}
			if info, err := os.Stat(output); err == nil && info.IsDir() {
				return fmt.Errorf("--output %s is a directory: pass a file name, e.g. %s/support-bundle.tar.gz", output, strings.TrimSuffix(output, "/"))
			}
			started := deps.Now()
			progress := func(msg string) { fmt.Fprintf(streams.Err, "  %s\n", msg) }
			if g.quiet {
				progress = func(string) {}
			} else {
				fmt.Fprintf(streams.Err, "Collecting a support bundle of %s\n", dataDir)
			}
			report, err := deps.SupportBundle(c.Context(), SupportBundleOptions{DataDir: dataDir, Output: output, Progress: progress})
			if err != nil {
				return err
			}
			return printSupportBundle(streams.Out, output, report, deps.Now().Sub(started))
		},
	}
	fs := c.Flags()
	fs.StringVar(&dataDir, "data-dir", installer.DefaultConfig().DataDir, "data dir of the install to collect (e.g. --data-dir /data/mission-control)")
	fs.StringVarP(&output, "output", "o", "", "archive to write; default mission-control-support-bundle-HOST-TIME.tar.gz here (e.g. -o /tmp/case-1234.tar.gz)")
	return c
}

func printSupportBundle(w io.Writer, output string, r SupportBundleReport, took time.Duration) error {
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
	size := "?"
	if info, err := os.Stat(output); err == nil {
		size = fmt.Sprintf("%.1f MiB", float64(info.Size())/(1<<20))
	}
	_, err := fmt.Fprintf(w, "Support bundle written to %s (%s) in %s\n", output, size, took.Round(100*time.Millisecond))
	return err
}
