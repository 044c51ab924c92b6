// Command mclicense is the vendor-side license tool: it makes signing keys and signs licenses.
package main

import (
	"context"
	"os"
	"time"

	"github.com/datastax/mission-control/internal/cli"
	"github.com/datastax/mission-control/internal/cli/mclicense"
)

func main() { os.Exit(mclicense.Run(context.Background(), cli.Stdio(), os.Args[1:], time.Now)) }
