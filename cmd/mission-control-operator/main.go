// Command mission-control-operator reconciles MissionControlClusters on control planes.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"

	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/datastax/mission-control/operators/missioncontrol"
)

func main() {
	err := missioncontrol.Run(ctrl.SetupSignalHandler(), os.Args[1:], os.Stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
	case err != nil:
		fmt.Fprintln(os.Stderr, "mission-control-operator:", err)
		os.Exit(1)
	}
}
