// Command mission-control installs and runs the mission-control platform on this host.
package main

import (
	"context"
	"time"

	"github.com/datastax/mission-control/installer/network"
	"github.com/datastax/mission-control/installer/preflight"
	"github.com/datastax/mission-control/installer/preflight/hostpreflight"
	"github.com/datastax/mission-control/internal/cli"
	"github.com/datastax/mission-control/internal/host"
	"github.com/datastax/mission-control/supportbundle"
)

// main gives the commands the troubleshoot-backed parts, which mcctl and mclicense do not link.
func main() {
	cli.Main(cli.Troubleshoot{
		Facts: func(ctx context.Context, in preflight.Input) (preflight.Facts, error) {
			return hostpreflight.Gather(ctx, in, network.Kernel{})
		},
		SupportBundle: func(ctx context.Context, o cli.SupportBundleOptions) (cli.SupportBundleReport, error) {
			r, err := supportbundle.Collect(ctx, supportbundle.Options{DataDir: o.DataDir, Output: o.Output, Host: host.System{}, Progress: o.Progress, APITimeout: 30 * time.Second})
			return cli.SupportBundleReport{Analysis: r.Analysis, ClusterError: r.ClusterError}, err
		},
	})
}
