// Package cli is what the command trees of mission-control, mcctl and mclicense share: their
// streams, how a tree runs and reports its error, the result format (-o), progress and logging
// flags, and argument checks. Each binary's tree lives in a package of its own below this one;
// commands there are thin: flags into an options struct, one library call, its result printed.
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/datastax/mission-control/internal/progress"
)

// Streams are a command's standard input and outputs.
type Streams struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer
}

// Stdio is the process's own streams.
func Stdio() Streams { return Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr} }

// Execute runs a command tree with args and returns the exit status: 0 on success, 1 on error
// (reported once on Err, one "Error:" line per problem), or the status an ExitError chose.
func Execute(ctx context.Context, root *cobra.Command, streams Streams, args []string) int {
	root.SetArgs(args)
	root.SetIn(streams.In)
	root.SetOut(streams.Out)
	root.SetErr(streams.Err)
	root.SilenceErrors, root.SilenceUsage = true, true
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return fmt.Errorf("%w (see %s --help)", err, c.CommandPath())
	})
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	var exit ExitError
	if errors.As(err, &exit) {
		return exit.Code
	}
	for line := range strings.SplitSeq(err.Error(), "\n") {
		fmt.Fprintf(streams.Err, "Error: %s\n", line)
	}
	return 1
}

// ExitError ends a command with a status and no message: the command already said why.
type ExitError struct{ Code int }

func (e ExitError) Error() string { return fmt.Sprintf("exit status %d", e.Code) }

// GlobalFlags are the logging and progress flags every command of a tree takes.
type GlobalFlags struct {
	Verbose int
	Quiet   bool
}

// Bind adds the flags to a tree's root.
func (g *GlobalFlags) Bind(root *cobra.Command) {
	root.PersistentFlags().CountVarP(&g.Verbose, "verbose", "v", "log more to stderr, e.g. -v for info, -vv for debug")
	root.PersistentFlags().BoolVarP(&g.Quiet, "quiet", "q", false, "show no progress, only results and errors")
}

// Logger logs diagnostics to w at the level -v chose (warnings by default).
func (g *GlobalFlags) Logger(w io.Writer) *slog.Logger {
	level := slog.LevelWarn
	switch {
	case g.Verbose == 1:
		level = slog.LevelInfo
	case g.Verbose > 1:
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

// Progress shows progress on w: JSON events when the result is JSON, nothing when quiet.
func (g *GlobalFlags) Progress(w io.Writer, out Output) progress.Reporter {
	switch {
	case g.Quiet:
		return progress.New(w, progress.Quiet)
	case out == OutputJSON:
		return progress.New(w, progress.JSON)
	default:
		return progress.New(w, progress.Text)
	}
}

// Output is the -o (--output) format of a command's result. Files a command writes are named by
// --out, never -o.
type Output string

// Result formats.
const (
	OutputText Output = "text"
	OutputYAML Output = "yaml"
	OutputJSON Output = "json"
)

func (o *Output) String() string { return string(*o) }

// Type implements pflag.Value.
func (o *Output) Type() string { return "format" }

// Set implements pflag.Value.
func (o *Output) Set(s string) error {
	switch Output(s) {
	case OutputText, OutputYAML, OutputJSON:
		*o = Output(s)
		return nil
	}
	return fmt.Errorf("%q is not a format: use text, yaml or json", s)
}

// BindOutput adds -o/--output to c, defaulting to text.
func BindOutput(c *cobra.Command, o *Output) {
	*o = OutputText
	c.Flags().VarP(o, "output", "o", "result format: text, yaml or json (e.g. -o json)")
}

// Print writes v as YAML or JSON, or calls text for the text format.
func (o Output) Print(w io.Writer, v any, text func(io.Writer) error) error {
	switch o {
	case OutputJSON:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	case OutputYAML:
		b, err := yaml.Marshal(v)
		if err != nil {
			return fmt.Errorf("encode output: %w", err)
		}
		_, err = w.Write(b)
		return err
	default:
		return text(w)
	}
}

// ExactArgs requires one positional argument and names it when missing.
func ExactArgs(name, what string) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		switch {
		case len(args) == 0:
			return fmt.Errorf("missing %s: pass %s (see %s --help)", name, what, c.CommandPath())
		case len(args) > 1:
			return fmt.Errorf("too many arguments: %s takes one %s (see %s --help)", c.CommandPath(), name, c.CommandPath())
		}
		return nil
	}
}
