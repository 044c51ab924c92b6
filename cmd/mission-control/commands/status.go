package commands

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/datastax/mission-control/charts"
	"github.com/datastax/mission-control/installer"
	"github.com/datastax/mission-control/internal/cli"
	"github.com/datastax/mission-control/internal/datadir"
	"github.com/datastax/mission-control/internal/progress"
	"github.com/datastax/mission-control/runtime/k0s"
)

// status's exit codes beyond 0 and 1, so that scripts can test them (as with systemctl status).
const (
	statusNotInstalled = 3 // no install, or an unfinished one
	statusUnhealthy    = 4 // installed, but the runtime is not running or not Ready
)

type statusOptions struct {
	dataDir string
	out     cli.Output
}

func newStatusCmd(streams cli.Streams, deps Deps) *cobra.Command {
	o := &statusOptions{dataDir: datadir.Default}
	c := &cobra.Command{
		Use:   "status",
		Short: "Show what is installed on this host",
		Long: `Show the install recorded in the data dir: mode, network ranges, node address, license, and the
progress of every install step, and the runtime: its service, the API and the node. Exits 0 when
the install is complete and healthy, 3 when there is no install or it did not finish, and 4 when
the runtime is not running or not Ready, or an operator is not Available.`,
		Example: `  mission-control status
  mission-control status --data-dir /data/mission-control -o json`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error { return runStatus(c.Context(), streams, deps, o) },
	}
	c.Flags().StringVar(&o.dataDir, "data-dir", o.dataDir, "data dir of the install (e.g. --data-dir /data/mission-control)")
	cli.BindOutput(c, &o.out)
	return c
}

func runStatus(ctx context.Context, streams cli.Streams, deps Deps, o *statusOptions) error {
	st, err := installer.Inspect(ctx, deps.Host, o.dataDir)
	if err != nil {
		return err
	}
	if err := printResult(streams, deps, o.out, st, func(w io.Writer) error { return writeStatus(w, st) }); err != nil {
		return err
	}
	switch {
	case !st.Complete:
		return cli.ExitError{Code: statusNotInstalled}
	case !st.Healthy:
		return cli.ExitError{Code: statusUnhealthy}
	}
	return nil
}

func writeStatus(w io.Writer, st installer.Status) error {
	if !st.Installed {
		_, err := fmt.Fprintf(w, "mission-control is not installed in %s.\n", st.DataDir)
		return err
	}
	completion := "complete"
	if !st.Complete {
		completion = "INCOMPLETE: run install again to resume, or reset to remove it"
	}
	if s := st.State; s != nil {
		fmt.Fprintf(w, "mission-control %s, %s node: %s\n", s.Mode, cmp.Or(s.Role, k0s.RoleController), completion)
		fmt.Fprintf(w, "  data dir:  %s\n  version:   %s\n  release:   %s\n  license:   %s\n", s.DataDir, s.Version, s.ReleaseName, s.LicenseID)
		if s.ContextName != "" {
			fmt.Fprintf(w, "  context:   %s\n", s.ContextName)
		}
		if s.TelemetryAggregatorURL != "" {
			fmt.Fprintf(w, "  telemetry: %s\n", s.TelemetryAggregatorURL)
		}
		fmt.Fprintf(w, "  network:   pods %s, services %s\n  node:      %s on %s\n", s.PodCIDR, s.ServiceCIDR, s.NodeAddress, s.NetworkInterface)
		if len(s.Runtime) > 0 {
			fmt.Fprintf(w, "  runtime:   k0s %s, kubernetes %s, etcd %s, coredns %s\n", s.Runtime["k0s"], s.Runtime["kubernetes"], s.Runtime["etcd"], s.Runtime["coredns"])
		}
	} else {
		fmt.Fprintf(w, "mission-control: %s (the install stopped before recording itself)\n  data dir:  %s\n", completion, st.DataDir)
	}
	if rt := st.Runtime; rt != nil {
		fmt.Fprintf(w, "Runtime:\n  service:   %s\n", rt.Service)
		if rt.APIReady {
			fmt.Fprintln(w, "  API:       ready")
		} else {
			fmt.Fprintf(w, "  API:       NOT READY (%s)\n", rt.APIProblem)
		}
		for _, n := range rt.Nodes {
			ready := "Ready"
			if !n.Ready {
				ready = "NOT READY: " + n.Message
			}
			fmt.Fprintf(w, "  node:      %s (%s) %s, %s, %s, %s, pods %s\n", n.Name, n.Role, n.Address, ready, n.KubeletVersion, n.Runtime, n.PodCIDR)
		}
		if len(st.Etcd) > 0 {
			names := make([]string, len(st.Etcd))
			for i, m := range st.Etcd {
				names[i] = m.Name
			}
			quorum, tolerated := k0s.Quorum(len(names))
			fmt.Fprintf(w, "  etcd:      %d members (%s): quorum %d, tolerates %d down\n", len(names), strings.Join(names, ", "), quorum, tolerated)
			if warning := k0s.QuorumWarning(len(names)); warning != "" {
				fmt.Fprintf(w, "  WARNING:   %s\n", warning)
			}
		}
	}
	if len(st.Components) > 0 {
		fmt.Fprintln(w, "Components:")
		for _, c := range st.Components {
			state := "Available"
			if !c.Available {
				state = "NOT AVAILABLE: " + c.Problem
			}
			fmt.Fprintf(w, "  %-26s %-5s %s  %s\n", c.Name, c.Ready, state, c.Image)
		}
	}
	if s := st.Storage; s != nil {
		fmt.Fprintf(w, "Storage:\n  classes:   %s (default)", s.DefaultClass)
		if s.DefaultClass != charts.StandardClass {
			fmt.Fprintf(w, ", %s", charts.StandardClass)
		}
		fmt.Fprintf(w, "\n  volumes:   %d in the cluster (%d bound); %d on this node, %s in %s\n", s.Volumes, s.Bound, s.LocalVolumes, progress.Size(s.LocalBytes), s.Dir)
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
