package cli

import (
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/datastax/mission-control/installer"
)

func newMissionControlCmd(streams Streams, deps Deps) *cobra.Command {
	g := &globalFlags{}
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
	g.bind(root)
	root.AddCommand(
		newInstallCmd(streams, deps, g),
		newResetCmd(streams, deps, g),
		newPreflightCmd(streams, deps),
		newSupportBundleCmd(streams, deps, g),
		newStatusCmd(streams),
		newVersionCmd(streams),
		newLicenseCmd(streams, deps),
		newShellCmd(streams),
		newSuperviseCmd(streams),
		newBundleCmd(streams, g),
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
}

// resolveCIDRFlags clears the default --cidr when the ranges are given explicitly; an explicit
// --cidr with them is left for validation to refuse.
func resolveCIDRFlags(fs *pflag.FlagSet, cfg *installer.Config) {
	if !fs.Changed("cidr") && (fs.Changed("pod-cidr") || fs.Changed("service-cidr")) {
		cfg.CIDR = ""
	}
}
