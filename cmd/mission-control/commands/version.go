package commands

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/datastax/mission-control/internal/cli"
	"github.com/datastax/mission-control/internal/releasekey"
	"github.com/datastax/mission-control/internal/version"
	"github.com/datastax/mission-control/runtime/k0s"
)

type versionInfo struct {
	Version           string `json:"version"`
	Commit            string `json:"commit"`
	Go                string `json:"go"`
	Kubernetes        string `json:"kubernetes"`
	LicenseKey        string `json:"licenseKey"`
	DevelopmentLicKey bool   `json:"developmentLicenseKey"`
}

func newVersionCmd(streams cli.Streams) *cobra.Command {
	var out cli.Output
	c := &cobra.Command{
		Use:     "version",
		Short:   "Show the version of mission-control and what it bundles",
		Example: "  mission-control version\n  mission-control version -o json",
		Args:    cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			v := versionInfo{
				Version: version.Version, Commit: version.Commit, Go: version.GoVersion(),
				Kubernetes: k0s.KubernetesVersion, LicenseKey: releasekey.ID(releasekey.Trusted()),
				DevelopmentLicKey: releasekey.IsDevelopment(),
			}
			return out.Print(streams.Out, v, func(w io.Writer) error {
				key := v.LicenseKey
				if v.DevelopmentLicKey {
					key += " (DEVELOPMENT key: this build accepts demo licenses; not for production)"
				}
				_, err := fmt.Fprintf(w, "mission-control %s (commit %s, %s)\nkubernetes:  %s\nlicense key: %s\n", v.Version, v.Commit, v.Go, v.Kubernetes, key)
				return err
			})
		},
	}
	cli.BindOutput(c, &out)
	return c
}
