// Command mission-control-operator reconciles MissionControlClusters on control planes.
package main

import "github.com/datastax/mission-control/operators/missioncontrol"

func main() { missioncontrol.Main() }
