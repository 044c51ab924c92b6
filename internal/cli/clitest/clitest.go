// Package clitest checks command trees against the help standard every command of ours meets,
// and runs a tree the way a test reads its result.
package clitest

import (
	"bytes"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/datastax/mission-control/internal/cli"
)

// AssertHelp fails t for every runnable command of root without an example, and every flag
// taking a value whose usage gives no example ("e.g.").
func AssertHelp(t testing.TB, root *cobra.Command) {
	t.Helper()
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Runnable() && c.Name() != "help" && !strings.Contains(c.CommandPath(), " completion") && c.Example == "" {
			t.Errorf("%s has no example", c.CommandPath())
		}
		c.LocalFlags().VisitAll(func(f *pflag.Flag) {
			if f.Value.Type() != "bool" && f.Name != "help" && !strings.Contains(f.Usage, "e.g.") {
				t.Errorf("%s --%s: usage has no example: %q", c.CommandPath(), f.Name, f.Usage)
			}
		})
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// Result is what a command printed and its exit status.
type Result struct {
	Code           int
	Stdout, Stderr string
}

// Run runs a tree (one of the trees' Run functions, bound to its dependencies) with stdin and
// args.
func Run(run func(streams cli.Streams, args []string) int, stdin string, args ...string) Result {
	var out, errOut bytes.Buffer
	code := run(cli.Streams{In: strings.NewReader(stdin), Out: &out, Err: &errOut}, args)
	return Result{Code: code, Stdout: out.String(), Stderr: errOut.String()}
}
