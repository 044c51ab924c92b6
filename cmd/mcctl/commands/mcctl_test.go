package commands

import (
	"testing"

	"github.com/datastax/mission-control/internal/cli"
	"github.com/datastax/mission-control/internal/cli/clitest"
)

// The commands' behaviour against real clusters is tested in package registration.
func TestHelp(t *testing.T) {
	clitest.AssertHelp(t, newRootCmd(cli.Streams{}))
}
