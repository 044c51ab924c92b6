// Command mission-control installs and runs the mission-control platform on this host.
package main

import (
	"context"
	"os"

	"github.com/datastax/mission-control/cmd/mission-control/commands"
	"github.com/datastax/mission-control/internal/cli"
)

func main() {
	os.Exit(commands.Run(context.Background(), cli.Stdio(), os.Args[1:], commands.SystemDeps()))
}
