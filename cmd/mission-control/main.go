// Command mission-control installs and runs the mission-control platform on this host.
package main

import "github.com/datastax/mission-control/internal/cli"

func main() { cli.Main() }
