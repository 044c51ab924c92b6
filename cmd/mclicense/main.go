// Command mclicense is the vendor-side license tool: it makes signing keys and signs licenses.
package main

import (
	"context"
	"os"
	"time"

	"github.com/datastax/mission-control/cmd/mclicense/commands"
	"github.com/datastax/mission-control/internal/cli"
	"github.com/datastax/mission-control/internal/host"
)

func main() {
	os.Exit(commands.Run(context.Background(), cli.Stdio(), os.Args[1:], commands.Deps{Host: host.System{}, Now: time.Now}))
}
