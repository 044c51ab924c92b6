// Command config-builder-standin is a test double of the config-builder init container
// (datastax/cass-config-builder): it renders the config files the server container reads from
// cass-operator's CONFIG_FILE_DATA into /config. Test-only.
package main

import (
	"fmt"
	"os"

	"github.com/datastax/mission-control/e2e/standin/node"
)

func main() {
	if err := node.Render("/config", os.Getenv("CONFIG_FILE_DATA"), os.Getenv("RACK_NAME"), os.Getenv("PRODUCT_VERSION")); err != nil {
		fmt.Fprintln(os.Stderr, "config-builder-standin:", err)
		os.Exit(1)
	}
	fmt.Println("config-builder-standin: rendered", node.YAMLFile, "and", node.RackDCFile, "into /config")
}
