// Package missioncontrol is the mission-control command tree: install, reset, preflight,
// support-bundle, status, shell, version, license and bundle, on the domain packages (installer,
// bundle, supportbundle, ...).
package commands

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/datastax/mission-control/installer"
	"github.com/datastax/mission-control/installer/preflight"
	"github.com/datastax/mission-control/installer/preflight/hostpreflight"
	"github.com/datastax/mission-control/internal/cli"
	"github.com/datastax/mission-control/internal/host"
	"github.com/datastax/mission-control/internal/network"
	"github.com/datastax/mission-control/internal/progress"
	"github.com/datastax/mission-control/internal/releasekey"
	"github.com/datastax/mission-control/runtime/payload"
	"github.com/datastax/mission-control/supportbundle"
)

// Deps is the machine the commands look at. SystemDeps is the real one; tests swap parts of it.
type Deps struct {
	Network network.HostNetwork
	// Facts gathers what host preflights judge: troubleshoot's collectors and ours.
	Facts func(context.Context, preflight.Input) (preflight.Facts, error)
	// SupportBundle collects a support bundle.
	SupportBundle func(context.Context, supportbundle.Options) (supportbundle.Result, error)
	Now           func() time.Time
	Geteuid       func() int
	// Interactive reports whether a person can answer a question on in.
	Interactive func(in io.Reader) bool
	// Host is this machine: every command reads and changes it through Host, and dry runs record
	// over it.
	Host host.Host
	// Payload is the runtime payload; Self the path of this binary.
	Payload func() (*payload.Payload, error)
	Self    func() (string, error)
	// WaitTimeout bounds each wait for the runtime.
	WaitTimeout time.Duration
	// JoinCluster reads the cluster a join token names.
	JoinCluster installer.JoinCluster
	// DevelopmentBuild is whether this build trusts the development key (releasekey.IsDevelopment).
	DevelopmentBuild bool
}

// developmentNotice is what a build that trusts the development key says with every install,
// join, preflight and status result: its private half is published, so anyone can sign for it.
const developmentNotice = "development build: licenses and bundles signed with the published development key are accepted"

// printResult prints a command's result in the format asked for. A development build says so
// first: on the text result's first line, or on stderr beside JSON or YAML.
func printResult(streams cli.Streams, deps Deps, out cli.Output, v any, text func(io.Writer) error) error {
	if !deps.DevelopmentBuild {
		return out.Print(streams.Out, v, text)
	}
	if out != cli.OutputText {
		fmt.Fprintln(streams.Err, "Warning: "+developmentNotice)
		return out.Print(streams.Out, v, text)
	}
	return out.Print(streams.Out, v, func(w io.Writer) error {
		if _, err := fmt.Fprintln(w, developmentNotice); err != nil {
			return err
		}
		return text(w)
	})
}

// SystemDeps is this machine.
func SystemDeps() Deps {
	return Deps{
		Network: network.Kernel{},
		Facts: func(ctx context.Context, in preflight.Input) (preflight.Facts, error) {
			return hostpreflight.Gather(ctx, in, network.Kernel{})
		},
		SupportBundle: supportbundle.Collect,
		Now:           time.Now,
		Geteuid:       os.Geteuid,
		Interactive:   func(in io.Reader) bool { return progress.IsTerminal(in) },
		Host:          host.System{},
		Payload:       payload.Embedded,
		Self:          os.Executable,
		WaitTimeout:   5 * time.Minute,
		JoinCluster:   installer.LiveJoinCluster,

		DevelopmentBuild: releasekey.IsDevelopment(),
	}
}

// Run runs mission-control with args and returns the exit status: 0 on success, 1 on error, or
// the status a command chose (status uses 3 for "not installed").
func Run(ctx context.Context, streams cli.Streams, args []string, deps Deps) int {
	return cli.Execute(ctx, newRootCmd(streams, deps), streams, args)
}

func newRootCmd(streams cli.Streams, deps Deps) *cobra.Command {
	g := &cli.GlobalFlags{}
	root := &cobra.Command{
		Use:   "mission-control",
		Short: "Install and run the mission-control platform for Apache Cassandra on this host",
		Long: `mission-control turns this Linux host into a node of the mission-control platform: it brings up
an embedded Kubernetes (k0s) on the network range you choose and installs the platform in
control-plane or data-plane mode. It runs as root and changes nothing before every input and
host check has passed.`,
		Example: `  # See exactly what an install would do, without changing anything:
  mission-control install --license license.yaml --dry-run

  # Install a control plane on 10.0.0.0/16 (pods 10.0.0.0/17, services 10.0.128.0/17):
  sudo mission-control install --license license.yaml --cidr 10.0.0.0/16`,
	}
	g.Bind(root)
	root.AddCommand(
		newInstallCmd(streams, deps, g),
		newJoinCmd(streams, deps, g),
		newNodeCmd(streams, deps),
		newResetCmd(streams, deps, g),
		newPreflightCmd(streams, deps),
		newSupportBundleCmd(streams, deps, g),
		newStatusCmd(streams, deps),
		newAdminTokenCmd(streams, deps),
		newVersionCmd(streams),
		newLicenseCmd(streams, deps),
		newShellCmd(streams, deps),
		newSuperviseCmd(streams),
		newBundleCmd(streams, deps, g),
	)
	return root
}

// bindHostFlags binds the flags install and preflight share: what is installed where.
func bindHostFlags(fs *pflag.FlagSet, cfg *installer.Config) {
	fs.StringVar(&cfg.Mode, "mode", cfg.Mode, "what this host becomes: control-plane or data-plane (e.g. --mode data-plane)")
	fs.StringVar(&cfg.CIDR, "cidr", cfg.CIDR, "private IPv4 range for the cluster, /16 to /11, split in halves: pods get the first, services the second (e.g. --cidr 10.0.0.0/16)")
	fs.StringVar(&cfg.PodCIDR, "pod-cidr", "", "pod range instead of splitting --cidr; needs --service-cidr (e.g. --pod-cidr 10.10.0.0/16)")
	fs.StringVar(&cfg.ServiceCIDR, "service-cidr", "", "service range instead of splitting --cidr; needs --pod-cidr (e.g. --service-cidr 10.20.0.0/20)")
	fs.StringVar(&cfg.DataDir, "data-dir", cfg.DataDir, "directory for all mission-control state; reset removes it (e.g. --data-dir /data/mission-control)")
	fs.StringVar(&cfg.NetworkInterface, "network-interface", "", "interface whose IPv4 address the node uses; default: the default route's (e.g. --network-interface eth1)")
	fs.StringVar(&cfg.AirgapBundle, "airgap-bundle", "", "install from this air-gap bundle instead of registries (e.g. --airgap-bundle mission-control-v1.0.0.airgap)")
	fs.StringVar(&cfg.VolumeSpace, "volume-space", cfg.VolumeSpace, "room the database's volumes need on the data dir's filesystem, counted by the disk preflight (e.g. --volume-space 500Gi)")
	fs.StringVar(&cfg.TelemetryAggregatorURL, "telemetry-aggregator-url", "", "a data plane's: the control plane's telemetry aggregator, port 30600 of any of its nodes; preflight warns when it does not answer (e.g. --telemetry-aggregator-url http://10.0.0.5:30600)")
}

// resolveCIDRFlags clears the default --cidr when the ranges are given explicitly; an explicit
// --cidr with them is left for validation to refuse.
func resolveCIDRFlags(fs *pflag.FlagSet, cfg *installer.Config) {
	if !fs.Changed("cidr") && (fs.Changed("pod-cidr") || fs.Changed("service-cidr")) {
		cfg.CIDR = ""
	}
}
