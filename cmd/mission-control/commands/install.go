package commands

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/datastax/mission-control/installer"
	"github.com/datastax/mission-control/internal/check"
	"github.com/datastax/mission-control/internal/cli"
	"github.com/datastax/mission-control/internal/host"
	"github.com/datastax/mission-control/internal/progress"
	"github.com/datastax/mission-control/internal/version"
)

type installOptions struct {
	cfg         installer.Config
	yes         bool
	dryRun      bool
	waitTimeout time.Duration
	output      cli.Output
	verb        string // install or join
}

func (o *installOptions) name() string {
	if o.verb == "" {
		return "install"
	}
	return o.verb
}

func newInstallCmd(streams cli.Streams, deps Deps, g *cli.GlobalFlags) *cobra.Command {
	o := &installOptions{cfg: installer.DefaultConfig(), waitTimeout: deps.WaitTimeout}
	c := &cobra.Command{
		Use:   "install",
		Short: "Install mission-control on this host",
		Long: `Install mission-control on this host in control-plane or data-plane mode.

Every input (license, flags, network ranges) and the host itself are checked first; nothing
changes until all checks pass and you confirm (or pass --yes). Progress is journaled in the data
dir: running install again resumes where it stopped, and reset undoes even a partial install.
--dry-run prints the exact plan, with every file it would write, and changes nothing.`,
		Example: `  # Print the plan without changing anything (no root needed):
  mission-control install --license license.yaml --dry-run

  # Install a control plane; pods get 10.0.0.0/17, services 10.0.128.0/17:
  sudo mission-control install --license license.yaml --cidr 10.0.0.0/16

  # Install a data plane with explicit ranges, without a prompt:
  sudo mission-control install --license license.yaml --mode data-plane \
    --pod-cidr 10.10.0.0/16 --service-cidr 10.20.0.0/20 --yes`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			resolveCIDRFlags(c.Flags(), &o.cfg)
			return runInstall(c.Context(), streams, deps, g, o)
		},
	}
	fs := c.Flags()
	fs.StringVar(&o.cfg.LicenseFile, "license", "", "license file you were issued; required (e.g. --license license.yaml)")
	bindHostFlags(fs, &o.cfg)
	fs.StringVar(&o.cfg.ReleaseName, "release-name", o.cfg.ReleaseName, "name of the platform release; data planes must use their control plane's (e.g. --release-name mc-prod)")
	fs.StringVar(&o.cfg.ContextName, "context-name", "", "this cluster's context name, as in kubeconfigs and MissionControlClusters' k8sContext; datacenters naming it run here (e.g. --context-name CP_EAST)")
	fs.StringVar(&o.cfg.StorageClassName, "storage-class-name", o.cfg.StorageClassName, "name of the default StorageClass (node-local volumes); a class named standard, as the docs' manifests name, is made beside it (e.g. --storage-class-name local)")
	fs.StringVar(&o.cfg.OIDCIssuerURL, "oidc-issuer-url", "", "a control plane's: let users sign in to the Mission Control UI with ID tokens of this OpenID Connect issuer, as RBAC users oidc:<claim> (e.g. --oidc-issuer-url https://sso.example.com/realms/ops)")
	fs.StringVar(&o.cfg.OIDCClientID, "oidc-client-id", "", "the client ID the issuer's ID tokens name as audience; needed with --oidc-issuer-url (e.g. --oidc-client-id mission-control)")
	fs.StringVar(&o.cfg.OIDCUsernameClaim, "oidc-username-claim", installer.DefaultOIDCUsernameClaim, "the ID token claim a user is known by to RBAC, after oidc: (e.g. --oidc-username-claim preferred_username)")
	fs.StringVar(&o.cfg.OIDCGroupsClaim, "oidc-groups-claim", "", "the ID token claim listing the user's groups, each oidc:<group> to RBAC (e.g. --oidc-groups-claim groups)")
	fs.StringVar(&o.cfg.OIDCCAFile, "oidc-ca-file", "", "the CA (PEM) that signed the issuer's certificate, when the host does not trust it already (e.g. --oidc-ca-file /etc/ssl/sso-ca.pem)")
	fs.BoolVar(&o.yes, "yes", false, "do not ask for confirmation before changing the host (e.g. for scripts)")
	fs.BoolVar(&o.cfg.IgnoreHostPreflights, "ignore-host-preflights", false, "install even if host preflights fail (not implied by --yes)")
	fs.BoolVar(&o.dryRun, "dry-run", false, "print the plan and every file it would write; change nothing (e.g. --dry-run -o yaml)")
	fs.DurationVar(&o.waitTimeout, "wait-timeout", o.waitTimeout, "how long each wait on the runtime (API, node, system pods, CRDs, operators, Helm) may take before install fails naming it (e.g. --wait-timeout 3m)")
	cli.BindOutput(c, &o.output)
	return c
}

// minWaitTimeout is the shortest --wait-timeout: below it even a healthy host's API server would
// not answer in time, and install would fail for no fault of the host.
const minWaitTimeout = 10 * time.Second

func validateWaitTimeout(d time.Duration) error {
	if d < minWaitTimeout {
		return fmt.Errorf("--wait-timeout %s is too short: give at least %s (e.g. --wait-timeout 3m)", d, minWaitTimeout)
	}
	return nil
}

// newEnv is the environment install and reset run in; the caller picks the host. waitTimeout
// bounds each wait on the runtime.
func newEnv(streams cli.Streams, deps Deps, g *cli.GlobalFlags, waitTimeout time.Duration) (installer.Env, error) {
	self, err := deps.Self()
	if err != nil {
		return installer.Env{}, fmt.Errorf("find this binary: %w", err)
	}
	return installer.Env{
		Network: deps.Network, Facts: deps.Facts, Now: deps.Now, Version: version.Version, Log: g.Logger(streams.Err),
		Payload: deps.Payload, Self: self, Cluster: installer.LiveCluster{Timeout: waitTimeout}, JoinCluster: deps.JoinCluster,
	}, nil
}

func runInstall(ctx context.Context, streams cli.Streams, deps Deps, g *cli.GlobalFlags, o *installOptions) error {
	if err := validateWaitTimeout(o.waitTimeout); err != nil {
		return err
	}
	env, err := newEnv(streams, deps, g, o.waitTimeout)
	if err != nil {
		return err
	}
	if o.dryRun {
		return runDryRunInstall(ctx, streams, deps, env, o)
	}
	if err := requireRoot(deps, o.name()); err != nil {
		return err
	}
	env.Host = deps.Host
	env.Progress = g.Progress(streams.Err, o.output)
	inst := installer.Install{Config: o.cfg, Env: env, Confirm: func(found installer.Findings) error {
		return confirm(streams, deps, o.yes, o.name(), installQuestion(o.name(), found))
	}}
	done, err := inst.Run(ctx)
	if err != nil {
		return err
	}
	summary := newInstallSummary(done)
	summary.verb = o.name()
	if summary.verb == "join" {
		summary.UI = "" // the UI's certificate names the first controller: admin-token says where
	}
	return printResult(streams, deps, o.output, summary, summary.writeText)
}

// runDryRunInstall runs the install's own code path against a recorder and prints its plan.
func runDryRunInstall(ctx context.Context, streams cli.Streams, deps Deps, env installer.Env, o *installOptions) error {
	rec := host.NewRecorder(deps.Host)
	env.Host = rec
	env.Progress = progress.New(streams.Err, progress.Quiet)
	env.Cluster = installer.PlannedCluster{Timeout: o.waitTimeout}
	inst := installer.Install{Config: o.cfg, Env: env, JournalHost: host.NewRecorder(deps.Host)}
	done, err := inst.Run(ctx)
	if err != nil {
		return err
	}
	plan := newDryRunPlan(done, rec.Ops())
	return printResult(streams, deps, o.output, plan, plan.writeText)
}

func installQuestion(verb string, found installer.Findings) string {
	what := "Install mission-control (%s) on this host?"
	if verb == "join" {
		what = "Join this host to the mission-control cluster (%s) as a worker?"
	}
	return fmt.Sprintf(what+"\n  data dir %s\n  pods %s, services %s, node %s on %s\n",
		found.Mode, found.DataDir, found.Network.PodCIDR, found.Network.ServiceCIDR, found.Node.Address, found.Node.Interface)
}

// requireRoot comes before anything else of a command that changes the host: run by another
// user, its checks would fail on what that user cannot read, naming the wrong problem.
func requireRoot(deps Deps, verb string) error {
	if deps.Geteuid() != 0 {
		return fmt.Errorf("%s changes this host and must run as root: run it again with sudo", verb)
	}
	return nil
}

// confirm is asked before a command changes the host: a person must agree unless --yes was given.
func confirm(streams cli.Streams, deps Deps, yes bool, verb, question string) error {
	if yes {
		return nil
	}
	if !deps.Interactive(streams.In) {
		return fmt.Errorf("%s changes this host and there is no terminal to confirm on: pass --yes", verb)
	}
	fmt.Fprint(streams.Err, question+"Continue? [y/N] ")
	answer, err := bufio.NewReader(streams.In).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read confirmation: %w", err)
	}
	switch strings.ToLower(strings.TrimSpace(answer)) {
	case "y", "yes":
		return nil
	}
	return fmt.Errorf("%s cancelled: nothing was changed", verb)
}

// dryRunPlan is what install --dry-run prints.
type dryRunPlan struct {
	DryRun     bool           `json:"dryRun"`
	Mode       string         `json:"mode"`
	DataDir    string         `json:"dataDir"`
	Steps      []plannedStep  `json:"steps"`
	Preflights []check.Result `json:"preflights"`
}

type plannedStep struct {
	installer.Result
	Changes []host.Op `json:"changes,omitempty"`
}

func newDryRunPlan(done installer.Findings, ops []host.Op) dryRunPlan {
	p := dryRunPlan{DryRun: true, Mode: done.Mode, DataDir: done.DataDir, Preflights: done.Preflights.Results}
	for _, r := range done.Steps {
		step := plannedStep{Result: r}
		for _, op := range ops {
			if op.Step == r.Step {
				op.Step = ""
				step.Changes = append(step.Changes, op)
			}
		}
		p.Steps = append(p.Steps, step)
	}
	return p
}

func (p dryRunPlan) writeText(w io.Writer) error {
	fmt.Fprintf(w, "Dry run: nothing was changed. Install (%s) would run these steps:\n\n", p.Mode)
	var files []host.Op
	for i, s := range p.Steps {
		detail := s.Detail
		switch {
		case s.Outcome == installer.OutcomeSkipped:
			detail = "already done, would be skipped"
		case !s.Check:
			detail = s.Title
		}
		fmt.Fprintf(w, "%3d. %-24s %s\n", i+1, s.Step, detail)
		for _, op := range s.Changes {
			fmt.Fprintf(w, "       %s\n", op)
			if op.Kind == "write" {
				files = append(files, op)
			}
		}
		if !s.Check && len(s.Changes) == 0 && s.Detail != "" { // a change inside the cluster
			fmt.Fprintf(w, "       %s\n", s.Detail)
		}
	}
	if warned := (check.Report{Results: p.Preflights}).Warned(); len(warned) > 0 {
		fmt.Fprintln(w, "\nPreflight warnings:")
		for _, r := range warned {
			fmt.Fprintf(w, "  %s: %s (%s)\n", r.Check, r.Message, r.Remedy)
		}
	}
	for _, f := range files {
		fmt.Fprintf(w, "\n--- %s (%s)\n", f.Path, f.Mode)
		switch {
		case f.Size == 0:
			fmt.Fprintln(w, "    (empty in a dry run: its content comes from the runtime once it runs)")
			continue
		case f.Redacted:
			fmt.Fprintln(w, "    (a private key: not shown)")
			continue
		}
		if f.Content == "" {
			fmt.Fprintf(w, "    (binary, %d bytes, sha256 %s)\n", f.Size, f.SHA256)
			continue
		}
		for line := range strings.SplitSeq(strings.TrimSuffix(f.Content, "\n"), "\n") {
			fmt.Fprintf(w, "    %s\n", line)
		}
	}
	return nil
}

// installSummary is what a finished install prints.
type installSummary struct {
	Installed bool   `json:"installed"`
	Mode      string `json:"mode"`
	DataDir   string `json:"dataDir"`
	// UI is where a control plane's Mission Control UI and API are opened.
	UI    string             `json:"ui,omitempty"`
	Steps []installer.Result `json:"steps"`
	verb  string
}

func newInstallSummary(done installer.Findings) installSummary {
	s := installSummary{Installed: true, Mode: done.Mode, DataDir: done.DataDir, Steps: done.Steps}
	if done.Mode == installer.ModeControlPlane && done.Node.Address.IsValid() {
		s.UI = installer.APIURL(done.Node.Address)
	}
	return s
}

func (s installSummary) writeText(w io.Writer) error {
	ran, skipped := 0, 0
	for _, r := range s.Steps {
		switch {
		case r.Outcome == installer.OutcomeSkipped:
			skipped++
		case !r.Check:
			ran++
		}
	}
	verb := "Install"
	if s.verb == "join" {
		verb = "Join"
	}
	if _, err := fmt.Fprintf(w, "%s (%s) complete: %d steps changed the host, %d were already done. Data dir: %s\nSee it with: mission-control status --data-dir %s\n",
		verb, s.Mode, ran, skipped, s.DataDir, s.DataDir); err != nil {
		return err
	}
	if s.UI == "" {
		return nil
	}
	_, err := fmt.Fprintf(w, "Mission Control UI and API: %s (its certificate is signed by the cluster's CA, as the Kubernetes API's)\nThe first administrator signs in with the token this prints: sudo mission-control admin-token --data-dir %s\n",
		s.UI, s.DataDir)
	return err
}
