// Command mission-control installs and runs the mission-control platform on this host.
package main

import (
	"context"
	"os"

	"github.com/datastax/mission-control/internal/cli"
	"github.com/datastax/mission-control/internal/cli/missioncontrol"
)

func main() {
	os.Exit(missioncontrol.Run(context.Background(), cli.Stdio(), os.Args[1:], missioncontrol.SystemDeps()))
}
