package commands

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/datastax/mission-control/installer"
	"github.com/datastax/mission-control/internal/check"
	"github.com/datastax/mission-control/internal/cli"
	"github.com/datastax/mission-control/internal/version"
)

type preflightOptions struct {
	cfg installer.Config
	out cli.Output
}

func newPreflightCmd(streams cli.Streams, deps Deps) *cobra.Command {
	o := &preflightOptions{cfg: installer.DefaultConfig()}
	c := &cobra.Command{
		Use:   "preflight",
		Short: "Check whether this host can run mission-control, changing nothing",
		Long: `Run the host preflights install runs, with troubleshoot's host collectors and analyzers and
mission-control's own checks: CPUs, memory and disk for the mode (and room for an air-gap
bundle's images), the data dir's filesystem, the ports the platform binds and who holds them,
kernel features (overlayfs, bridge netfilter, NAT, cgroups, forwarding), the network ranges
against the host's routes and addresses, the node address, hostname, clock sync, SELinux,
firewalld and systemd. Each check passes, warns or fails with a remedy. Exits 1 when a check fails.`,
		Example: `  # Check this host for a control plane on the default range:
  mission-control preflight

  # Check it for a data plane on 10.0.0.0/16, as JSON:
  mission-control preflight --mode data-plane --cidr 10.0.0.0/16 -o json

  # Check it for an air-gapped install, with room for the bundle's images:
  mission-control preflight --airgap-bundle mission-control-v1.0.0.airgap`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			resolveCIDRFlags(c.Flags(), &o.cfg)
			return runPreflight(c.Context(), streams, deps, o)
		},
	}
	bindHostFlags(c.Flags(), &o.cfg)
	cli.BindOutput(c, &o.out)
	return c
}

func runPreflight(ctx context.Context, streams cli.Streams, deps Deps, o *preflightOptions) error {
	report, err := installer.Preflight(ctx, deps.Host, deps.Facts, o.cfg, version.Version)
	if err != nil {
		return err
	}
	if err := printResult(streams, deps, o.out, report, func(w io.Writer) error { return writeTable(w, report) }); err != nil {
		return err
	}
	if len(report.Failed()) > 0 {
		return fmt.Errorf("host preflights failed: %s", report.Summary())
	}
	return nil
}

func writeTable(w io.Writer, r check.Report) error {
	fmt.Fprintf(w, "%-24s %-6s %s\n", "CHECK", "RESULT", "DETAIL")
	for _, res := range r.Results {
		detail := res.Message
		if res.Remedy != "" {
			detail += " -> " + res.Remedy
		}
		fmt.Fprintf(w, "%-24s %-6s %s\n", res.Check, strings.ToUpper(string(res.Status)), detail)
	}
	_, err := fmt.Fprintf(w, "\n%s\n", r.Summary())
	return err
}
