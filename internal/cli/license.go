package cli

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/datastax/mission-control/installer/license"
	"github.com/datastax/mission-control/internal/releasekey"
)

func newLicenseCmd(streams Streams, deps Deps) *cobra.Command {
	c := &cobra.Command{
		Use:   "license",
		Short: "Work with mission-control licenses",
	}
	c.AddCommand(newLicenseInspectCmd(streams, deps))
	return c
}

// inspection is what license inspect reports.
type inspection struct {
	File     string        `json:"file"`
	Spec     *license.Spec `json:"spec,omitempty"`
	KeyID    string        `json:"keyID,omitempty"`
	Valid    bool          `json:"valid"`
	Problem  string        `json:"problem,omitempty"`
	Trusted  string        `json:"trustedKey"`
	Checked  time.Time     `json:"checkedAt"`
	Expiring string        `json:"expiresIn,omitempty"`
}

func newLicenseInspectCmd(streams Streams, deps Deps) *cobra.Command {
	var out output
	c := &cobra.Command{
		Use:   "inspect FILE",
		Short: "Show a license and whether this build accepts it",
		Long: `Show a license's contents and verify it offline against the public key compiled into this
binary: signature, validity dates and entitlements. Exits 1 when the license is not valid.`,
		Example: "  mission-control license inspect license.yaml\n  mission-control license inspect license.yaml -o json",
		Args:    exactArgs("FILE", "the license file to inspect, e.g. license.yaml"),
		RunE: func(_ *cobra.Command, args []string) error {
			in, err := inspect(args[0], deps.Now())
			if err != nil {
				return err
			}
			if err := out.print(streams.Out, in, in.writeText); err != nil {
				return err
			}
			if !in.Valid {
				return fmt.Errorf("license %s: %s", in.File, in.Problem)
			}
			return nil
		},
	}
	bindOutput(c, &out)
	return c
}

func inspect(path string, now time.Time) (inspection, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return inspection{}, fmt.Errorf("read license file: %w", err)
	}
	l, err := license.Parse(data)
	if err != nil {
		return inspection{}, fmt.Errorf("license %s: %w", path, err)
	}
	in := inspection{File: path, Spec: &l.Spec, Trusted: releasekey.ID(releasekey.Trusted()), Checked: now.UTC(), Valid: true}
	if l.Signature != nil {
		in.KeyID = l.Signature.KeyID
	}
	if err := l.Verify(releasekey.Trusted(), now); err != nil {
		in.Valid, in.Problem = false, err.Error()
	} else {
		in.Expiring = l.Spec.ExpiresAt.Sub(now).Round(time.Hour).String()
	}
	return in, nil
}

func (in inspection) writeText(w io.Writer) error {
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

// exactArgs requires one positional argument and names it when missing.
func exactArgs(name, what string) cobra.PositionalArgs {
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
