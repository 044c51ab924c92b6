// Command mclicense is the vendor-side license tool: it makes signing keys and signs licenses.
package main

import "github.com/datastax/mission-control/internal/cli"

func main() { cli.MCLicenseMain() }
