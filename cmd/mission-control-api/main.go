// Command mission-control-api serves the Mission Control API and web UI on a control plane.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"

	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/datastax/mission-control/api"
)

func main() {
	err := api.Run(ctrl.SetupSignalHandler(), os.Args[1:], os.Stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
	case err != nil:
		fmt.Fprintln(os.Stderr, "mission-control-api:", err)
		os.Exit(1)
	}
}
