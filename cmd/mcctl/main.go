// Command mcctl operates mission-control across clusters: it registers data planes with a
// control plane.
package main

import (
	"context"
	"os"

	"github.com/datastax/mission-control/cmd/mcctl/commands"
	"github.com/datastax/mission-control/internal/cli"
)

func main() { os.Exit(commands.Run(context.Background(), cli.Stdio(), os.Args[1:])) }
