// Command mission-control installs and runs the mission-control platform on this host.
package main

import (
	"context"

	"github.com/datastax/mission-control/installer/network"
	"github.com/datastax/mission-control/installer/preflight"
	"github.com/datastax/mission-control/installer/preflight/hostpreflight"
	"github.com/datastax/mission-control/internal/cli"
)

func main() {
	cli.Main(cli.Troubleshoot{
		Facts: func(ctx context.Context, in preflight.Input) (preflight.Facts, error) {
			return hostpreflight.Gather(ctx, in, network.Kernel{})
		},
	})
}
