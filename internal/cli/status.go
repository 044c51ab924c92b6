package cli

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/datastax/mission-control/installer"
	"github.com/datastax/mission-control/installer/host"
)

// statusNotInstalled is status's exit code when there is no complete install, as with
// `systemctl status` for a stopped unit: scripts can test it.
const statusNotInstalled = 3

func newStatusCmd(streams Streams) *cobra.Command {
	dataDir := installer.DefaultDataDir
	var out output
	c := &cobra.Command{
		Use:   "status",
		Short: "Show what is installed on this host",
		Long: `Show the install recorded in the data dir: mode, network ranges, node address, license, and the
progress of every install step. Exits 0 when the install is complete, 3 when there is no install
or it did not finish.`,
		Example: `  mission-control status
  mission-control status --data-dir /data/mission-control -o json`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			st, err := installer.ReadStatus(host.System{}, dataDir)
			if err != nil {
				return err
			}
			if err := out.print(streams.Out, st, func(w io.Writer) error { return writeStatus(w, st) }); err != nil {
				return err
			}
			if !st.Complete {
				return exitError{code: statusNotInstalled}
			}
			return nil
		},
	}
	c.Flags().StringVar(&dataDir, "data-dir", dataDir, "data dir of the install (e.g. --data-dir /data/mission-control)")
	bindOutput(c, &out)
	return c
}

func writeStatus(w io.Writer, st installer.Status) error {
	if !st.Installed {
		_, err := fmt.Fprintf(w, "mission-control is not installed in %s.\n", st.DataDir)
		return err
	}
	progress := "complete"
	if !st.Complete {
		progress = "INCOMPLETE: run install again to resume, or reset to remove it"
	}
	if s := st.State; s != nil {
		fmt.Fprintf(w, "mission-control %s: %s\n", s.Mode, progress)
		fmt.Fprintf(w, "  data dir:  %s\n  version:   %s\n  release:   %s\n  license:   %s\n", s.DataDir, s.Version, s.ReleaseName, s.LicenseID)
		fmt.Fprintf(w, "  network:   pods %s, services %s\n  node:      %s on %s\n", s.PodCIDR, s.ServiceCIDR, s.NodeAddress, s.NetworkInterface)
	} else {
		fmt.Fprintf(w, "mission-control: %s (the install stopped before recording itself)\n  data dir:  %s\n", progress, st.DataDir)
	}
	fmt.Fprintln(w, "Steps:")
	for _, e := range st.Steps {
		line := fmt.Sprintf("  %-22s %-9s %s", e.Step, e.State, e.Time.Format(time.RFC3339))
		if e.Error != "" {
			line += "  " + e.Error
		}
		fmt.Fprintln(w, line)
	}
	return nil
}
