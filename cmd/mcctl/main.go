// Command mcctl operates mission-control across clusters: it registers data planes with a
// control plane.
package main

import "github.com/datastax/mission-control/internal/cli"

func main() { cli.MCCtlMain() }
