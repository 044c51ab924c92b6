package commands

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/datastax/mission-control/internal/cli"
	"github.com/datastax/mission-control/internal/license"
	"github.com/datastax/mission-control/internal/releasekey"
)

func newLicenseCmd(streams cli.Streams, deps Deps) *cobra.Command {
	c := &cobra.Command{
		Use:   "license",
		Short: "Work with mission-control licenses",
	}
	c.AddCommand(newLicenseInspectCmd(streams, deps))
	return c
}

func newLicenseInspectCmd(streams cli.Streams, deps Deps) *cobra.Command {
	var out cli.Output
	c := &cobra.Command{
		Use:   "inspect FILE",
		Short: "Show a license and whether this build accepts it",
		Long: `Show a license's contents and verify it offline against the public key compiled into this
binary: signature, validity dates and entitlements. Exits 1 when the license is not valid.`,
		Example: "  mission-control license inspect license.yaml\n  mission-control license inspect license.yaml -o json",
		Args:    cli.ExactArgs("FILE", "the license file to inspect, e.g. license.yaml"),
		RunE:    func(_ *cobra.Command, args []string) error { return runLicenseInspect(streams, deps, out, args[0]) },
	}
	cli.BindOutput(c, &out)
	return c
}

func runLicenseInspect(streams cli.Streams, deps Deps, out cli.Output, file string) error {
	in, err := license.Inspect(deps.Host, file, releasekey.Trusted(), deps.Now())
	if err != nil {
		return err
	}
	if err := out.Print(streams.Out, in, func(w io.Writer) error { return writeInspection(w, in) }); err != nil {
		return err
	}
	if !in.Valid {
		return fmt.Errorf("license %s: %s", in.File, in.Problem)
	}
	return nil
}

func writeInspection(w io.Writer, in license.Inspection) error {
	s := in.Spec
	airgap := "not allowed"
	if s.Entitlements.Airgap {
		airgap = "allowed"
	}
	verdict := "VALID"
	if !in.Valid {
		verdict = "NOT VALID: " + in.Problem
	}
	_, err := fmt.Fprintf(w, `License %s
  customer:      %s
  issued:        %s
  expires:       %s
  modes:         %s
  max nodes:     %d
  air-gap:       %s
  signed by key: %s (this build trusts %s)
  verification:  %s
`, s.LicenseID, s.Customer, s.IssuedAt.UTC().Format(time.RFC3339), s.ExpiresAt.UTC().Format(time.RFC3339),
		strings.Join(s.Entitlements.Modes, ", "), s.Entitlements.MaxNodes, airgap, orNone(in.KeyID), in.Trusted, verdict)
	return err
}

func orNone(s string) string {
	if s == "" {
		return "(unsigned)"
	}
	return s
}
