// Package cli holds the command trees of mission-control and mclicense. Commands are thin: they
// map flags onto a library call and print its result; the work lives in the domain packages.
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
	"time"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/datastax/mission-control/installer/network"
	"github.com/datastax/mission-control/installer/preflight"
	"github.com/datastax/mission-control/internal/host"
	"github.com/datastax/mission-control/internal/progress"
	"github.com/datastax/mission-control/runtime/payload"
)

// Streams are a command's standard input and outputs.
type Streams struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer
}

// Deps is the machine the commands look at. Main uses the real one; tests swap parts of it.
type Deps struct {
	Troubleshoot
	Network network.HostNetwork
	Now     func() time.Time
	Geteuid func() int
	// Interactive reports whether a person can answer a question on in.
	Interactive func(in io.Reader) bool
	// Base is what dry runs read the host through.
	Base host.Reader
	// Payload is the runtime payload; Self the path of this binary.
	Payload func() (*payload.Payload, error)
	Self    func() (string, error)
	// WaitTimeout bounds each wait for the runtime.
	WaitTimeout time.Duration
}

// Troubleshoot is what mission-control does with the troubleshoot library. Its main provides it:
// this package is shared with mcctl and mclicense, which must not link troubleshoot (50 MB).
type Troubleshoot struct {
	// Facts gathers what host preflights judge.
	Facts func(context.Context, preflight.Input) (preflight.Facts, error)
	// SupportBundle collects a support bundle.
	SupportBundle func(context.Context, SupportBundleOptions) (SupportBundleReport, error)
}

// SystemDeps is this machine.
func SystemDeps(ts Troubleshoot) Deps {
	return Deps{
		Troubleshoot: ts,
		Network:      network.Kernel{},
		Now:          time.Now,
		Geteuid:      os.Geteuid,
		Interactive:  func(in io.Reader) bool { return progress.IsTerminal(in) },
		Base:         host.System{},
		Payload:      payload.Embedded,
		Self:         os.Executable,
		WaitTimeout:  5 * time.Minute,
	}
}

// Main runs mission-control with the process's arguments and exits with its status.
func Main(ts Troubleshoot) {
	os.Exit(Run(context.Background(), Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}, os.Args[1:], SystemDeps(ts)))
}

// Run runs mission-control with args and returns the exit status: 0 on success, 1 on error, or
// the status a command chose (status uses 3 for "not installed").
func Run(ctx context.Context, streams Streams, args []string, deps Deps) int {
	return execute(ctx, newMissionControlCmd(streams, deps), streams, args)
}

// execute runs a command tree and reports its error once, one problem per line.
func execute(ctx context.Context, root *cobra.Command, streams Streams, args []string) int {
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
	var exit exitError
	if errors.As(err, &exit) {
		return exit.code
	}
	for line := range strings.SplitSeq(err.Error(), "\n") {
		fmt.Fprintf(streams.Err, "Error: %s\n", line)
	}
	return 1
}

// exitError ends a command with a status and no message: the command already said why.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// globalFlags apply to every command.
type globalFlags struct {
	verbose int
	quiet   bool
}

func (g *globalFlags) bind(c *cobra.Command) {
	c.PersistentFlags().CountVarP(&g.verbose, "verbose", "v", "log more to stderr, e.g. -v for info, -vv for debug")
	c.PersistentFlags().BoolVarP(&g.quiet, "quiet", "q", false, "show no progress, only results and errors")
}

func (g *globalFlags) logger(w io.Writer) *slog.Logger {
	level := slog.LevelWarn
	switch {
	case g.verbose == 1:
		level = slog.LevelInfo
	case g.verbose > 1:
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

// progress shows progress on stderr: JSON events when the output is JSON, nothing when quiet.
func (g *globalFlags) progress(w io.Writer, out output) progress.Reporter {
	switch {
	case g.quiet:
		return progress.New(w, progress.Quiet)
	case out == outputJSON:
		return progress.New(w, progress.JSON)
	default:
		return progress.New(w, progress.Text)
	}
}

// output is the --output format of a command's result.
type output string

const (
	outputText output = "text"
	outputYAML output = "yaml"
	outputJSON output = "json"
)

func (o *output) String() string { return string(*o) }
func (o *output) Type() string   { return "format" }
func (o *output) Set(s string) error {
	switch output(s) {
	case outputText, outputYAML, outputJSON:
		*o = output(s)
		return nil
	}
	return fmt.Errorf("%q is not a format: use text, yaml or json", s)
}

func bindOutput(c *cobra.Command, o *output) {
	*o = outputText
	c.Flags().VarP(o, "output", "o", "result format: text, yaml or json (e.g. -o json)")
}

// print writes v as YAML or JSON, or calls text for the text format.
func (o output) print(w io.Writer, v any, text func(io.Writer) error) error {
	switch o {
	case outputJSON:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	case outputYAML:
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
