// Command mcctl operates mission-control across clusters: it registers data planes with a
// control plane.
package main

import (
	"context"
	"os"

	"github.com/datastax/mission-control/internal/cli"
	"github.com/datastax/mission-control/internal/cli/mcctl"
)

func main() { os.Exit(mcctl.Run(context.Background(), cli.Stdio(), os.Args[1:])) }
