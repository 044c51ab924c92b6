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
	BundleKey         string `json:"bundleKey"`
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
				Kubernetes: k0s.KubernetesVersion, LicenseKey: releasekey.ID(releasekey.Trusted()), BundleKey: releasekey.ID(releasekey.TrustedBundles()),
				DevelopmentLicKey: releasekey.IsDevelopment(),
			}
			return out.Print(streams.Out, v, func(w io.Writer) error {
				if v.DevelopmentLicKey {
					if _, err := fmt.Fprintln(w, developmentNotice+" (not for production)"); err != nil {
						return err
					}
				}
				_, err := fmt.Fprintf(w, "mission-control %s (commit %s, %s)\nkubernetes:  %s\nlicense key: %s\nbundle key:  %s\n", v.Version, v.Commit, v.Go, v.Kubernetes, v.LicenseKey, v.BundleKey)
				return err
			})
		},
	}
	cli.BindOutput(c, &out)
	return c
}
