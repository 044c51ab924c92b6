package installer

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	certutil "k8s.io/client-go/util/cert"

	"github.com/datastax/mission-control/installer/preflight"
	"github.com/datastax/mission-control/internal/check"
	"github.com/datastax/mission-control/internal/datadir"
	"github.com/datastax/mission-control/internal/host"
	"github.com/datastax/mission-control/internal/license"
	"github.com/datastax/mission-control/internal/network"
	"github.com/datastax/mission-control/internal/releasekey"
	"github.com/datastax/mission-control/runtime/k0s"
)

// Plan is the whole install, in order. Checks come first, so that bad input or an unfit host is
// refused before anything changes; later issues add the runtime's and the charts' steps.
func Plan(cfg Config) []Step {
	if cfg.joins() {
		return joinPlan(cfg)
	}
	steps := []Step{verifyLicense(), planNetwork(), checkInstallState(), hostPreflights()}
	if cfg.AirgapBundle != "" {
		steps = append(steps, verifyAirgapBundle())
	}
	if cfg.OIDCIssuerURL != "" {
		steps = append(steps, checkSignIn())
	}
	steps = append(steps, prepareDataDir(), writeInstallState(), recordLicense(), writePreflightResults())
	steps = append(steps, stageRuntimeSteps()...)
	if cfg.AirgapBundle != "" {
		steps = append(steps, stageAirgapImages()) // before the runtime starts and imports them
	}
	steps = append(steps, startRuntimeSteps()...)
	return append(steps, platformSteps(cfg)...)
}

// checkSignIn reads the OIDC issuer's CA (--oidc-ca-file) before anything changes, so that a
// missing or unreadable file is refused while the host is as it was.
func checkSignIn() Step {
	return Step{
		Name:  "check-sign-in",
		Title: "Check the OIDC issuer users sign in with",
		Check: true,
		Run: func(_ context.Context, sc *StepContext) error {
			c := sc.Config
			o := &k0s.OIDC{IssuerURL: c.OIDCIssuerURL, ClientID: c.OIDCClientID, UsernameClaim: cmp.Or(c.OIDCUsernameClaim, DefaultOIDCUsernameClaim), GroupsClaim: c.OIDCGroupsClaim}
			if c.OIDCCAFile != "" {
				data, err := sc.Host.ReadFile(c.OIDCCAFile)
				if err != nil {
					return fmt.Errorf("--oidc-ca-file: %w", err)
				}
				if certs, err := certutil.ParseCertsPEM(data); err != nil || len(certs) == 0 {
					return fmt.Errorf("--oidc-ca-file %s holds no PEM certificate: give the CA that signed the issuer's certificate", c.OIDCCAFile)
				}
				o.CA = string(data)
			}
			sc.OIDC = o
			sc.Detail("%s, client %s; users are %s<%s>", o.IssuerURL, o.ClientID, k0s.OIDCPrefix, o.UsernameClaim)
			return nil
		},
	}
}

func verifyLicense() Step {
	return Step{
		Name:  "verify-license",
		Title: "Verify the license",
		Check: true,
		Run: func(_ context.Context, sc *StepContext) error {
			path := sc.Config.LicenseFile
			l, err := license.ReadFile(sc.Host, path)
			if err != nil {
				return err
			}
			err = l.Verify(releasekey.Trusted(), sc.Now())
			if err == nil {
				err = l.Entitles(sc.Config.Mode, sc.Config.AirgapBundle != "")
			}
			if err != nil {
				return fmt.Errorf("license %s: %w", path, err)
			}
			sc.License = l
			sc.Detail("%s for %s, %s mode, expires %s", l.Spec.LicenseID, l.Spec.Customer, sc.Config.Mode, l.Spec.ExpiresAt.UTC().Format(time.DateOnly))
			return nil
		},
	}
}

func planNetwork() Step {
	return Step{
		Name:  "plan-network",
		Title: "Plan the cluster network",
		Check: true,
		Run: func(_ context.Context, sc *StepContext) error {
			plan, err := sc.Config.NetworkPlan()
			if err != nil {
				return err
			}
			taken, err := network.Taken(sc.Network, k0s.BridgeName)
			if err != nil {
				return err
			}
			if err := plan.CheckHost(taken); err != nil {
				return err
			}
			node, err := network.SelectNode(sc.Network, sc.Config.NetworkInterface, k0s.BridgeName)
			if err != nil {
				return err
			}
			sc.Plan, sc.Node = plan, node
			sc.Detail("pods %s, services %s, node %s on %s", plan.PodCIDR, plan.ServiceCIDR, node.Address, node.Interface)
			return nil
		},
	}
}

// RunHostPreflights judges this host for cfg on plan: facts gathers what the checks need; with
// an air-gap bundle, its signed manifest gives the room its images need. resuming: the runtime
// of the install being resumed may hold the platform's ports.
func RunHostPreflights(ctx context.Context, r host.Reader, facts func(context.Context, preflight.Input) (preflight.Facts, error),
	cfg Config, plan network.Plan, version string, resuming bool) (check.Report, error) {
	volumeBytes, err := cfg.VolumeBytes()
	if err != nil {
		return check.Report{}, err
	}
	aggregator, err := cfg.TelemetryAggregator()
	if err != nil {
		return check.Report{}, err
	}
	in := preflight.Input{Mode: cfg.Mode, DataDir: cfg.DataDir, NetworkInterface: cfg.NetworkInterface,
		Network: plan, OwnDevices: []string{k0s.BridgeName}, Resuming: resuming, VolumeBytes: volumeBytes, TelemetryAggregator: aggregator}
	if cfg.AirgapBundle != "" {
		if in.BundleImageBytes, err = BundleImageBytes(ctx, r, cfg.AirgapBundle, version); err != nil {
			return check.Report{}, err
		}
	}
	f, err := facts(ctx, in)
	if err != nil {
		return check.Report{}, fmt.Errorf("gather host facts: %w", err)
	}
	return preflight.Evaluate(in, f), nil
}

// Preflight judges this host for cfg as install's host preflights would, before any install:
// the config's target (mode, data dir, interface, ranges) is validated first.
func Preflight(ctx context.Context, r host.Reader, facts func(context.Context, preflight.Input) (preflight.Facts, error), cfg Config, version string) (check.Report, error) {
	if errs := cfg.ValidateTarget(); len(errs) > 0 {
		return check.Report{}, errors.Join(errs...)
	}
	plan, err := cfg.NetworkPlan()
	if err != nil {
		return check.Report{}, err
	}
	return RunHostPreflights(ctx, r, facts, cfg, plan, version, false)
}

func hostPreflights() Step {
	return Step{
		Name:  "host-preflights",
		Title: "Run host preflights",
		Check: true,
		Run: func(ctx context.Context, sc *StepContext) error {
			var err error
			if sc.Preflights, err = RunHostPreflights(ctx, sc.Host, sc.Facts, sc.Config, sc.Plan, sc.Version, sc.resuming); err != nil {
				return err
			}
			failed := sc.Preflights.Failed()
			if len(failed) == 0 {
				sc.Detail("%s", sc.Preflights.Summary())
				return nil
			}
			problems := make([]string, len(failed))
			for i, f := range failed {
				problems[i] = fmt.Sprintf("%s: %s (%s)", f.Check, f.Message, f.Remedy)
			}
			if sc.Config.IgnoreHostPreflights {
				sc.Log.Warn("IGNORING FAILED HOST PREFLIGHTS because of --ignore-host-preflights; the install may not work", "failed", strings.Join(problems, "; "))
				sc.Detail("IGNORED %s", sc.Preflights.Summary())
				return nil
			}
			return fmt.Errorf("%s; fix them, or pass --ignore-host-preflights to install anyway (see mission-control preflight)", strings.Join(problems, "; "))
		},
	}
}

func checkInstallState() Step {
	return Step{
		Name:  "check-install-state",
		Title: "Check for an existing install",
		Check: true,
		Run: func(ctx context.Context, sc *StepContext) error {
			dir := sc.Config.DataDir
			prev, err := LoadState(sc.Host, sc.Paths)
			switch {
			case err == nil:
				if diffs := prev.conflicts(stateOf(sc)); len(diffs) > 0 {
					return fmt.Errorf("mission-control is already installed in %s with %s: run mission-control reset first to reinstall differently", dir, strings.Join(diffs, ", "))
				}
				if sc.journal.Complete(Plan(sc.Config)) {
					// Stopped (a reboot without systemd, or a stopped unit): the same command starts
					// it again, as the systemd preflight's remedy says; every other step is in place.
					running, _, err := sc.service().Running(ctx)
					if err != nil {
						return err
					}
					if running {
						return fmt.Errorf("mission-control (%s, pods %s, services %s) is already installed in %s: run mission-control reset --data-dir %s first to reinstall", prev.Mode, prev.PodCIDR, prev.ServiceCIDR, dir, dir)
					}
					sc.resuming = true
					sc.Detail("the install in %s is complete but its runtime is not running: starting it", dir)
					return nil
				}
				sc.resuming = true
				sc.Detail("resuming the unfinished install in %s", dir)
				return nil
			case !errors.Is(err, ErrNotInstalled):
				return err
			}
			names, err := sc.Host.ReadDir(dir)
			names = slices.DeleteFunc(names, isFilesystemEntry)
			switch {
			case errors.Is(err, fs.ErrNotExist):
				sc.Detail("new install in %s", dir)
				return nil
			case err != nil:
				return fmt.Errorf("--data-dir %s: %w", dir, err)
			case len(names) == 0:
				sc.Detail("new install in the empty directory %s", dir)
				return nil
			case slices.Contains(names, datadir.JournalFile):
				sc.resuming = true
				sc.Detail("resuming an unfinished install in %s", dir)
				return nil
			}
			return fmt.Errorf("--data-dir %s is not empty and holds no mission-control install: choose an empty or new directory", dir)
		},
	}
}

// isFilesystemEntry: a name the filesystem itself keeps at its root (ext4's lost+found), which a
// data dir on a disk of its own holds from the start.
func isFilesystemEntry(name string) bool { return name == "lost+found" }

// removeEntries removes the entries of dir whose names match; a dir that does not exist has none.
func removeEntries(ctx context.Context, h host.Host, dir string, match func(name string) bool) error {
	names, err := h.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var errs []error
	for _, name := range names {
		if match(name) {
			errs = append(errs, h.RemoveAll(ctx, filepath.Join(dir, name)))
		}
	}
	return errors.Join(errs...)
}

// dirMode is the permission bits of the directory at path.
func dirMode(h host.Reader, path string) (fs.FileMode, error) {
	info, err := host.Stat(h, path)
	if err != nil {
		return 0, err
	}
	return info.Mode().Perm(), nil
}

func prepareDataDir() Step {
	dirs := func(sc *StepContext) []string { return []string{sc.Paths.DataDir, sc.Paths.EtcDir()} }
	return Step{
		Name:  "prepare-data-dir",
		Title: "Prepare the data directory",
		Run: func(ctx context.Context, sc *StepContext) error {
			// A data dir that existed keeps its mode through MkdirAll: it holds the cluster's
			// keys and the admin kubeconfig, so only root may enter it. Its mode before is kept
			// for reset, which leaves a mounted data dir in place.
			before, err := dirMode(sc.Host, sc.Paths.DataDir)
			switch {
			case errors.Is(err, fs.ErrNotExist):
			case err != nil:
				return fmt.Errorf("read the mode of %s: %w", sc.Paths.DataDir, err)
			case before != 0o700:
				if err := sc.Host.WriteFile(ctx, sc.Paths.ModeBeforeFile(), fmt.Appendf(nil, "%#o\n", before), 0o600); err != nil {
					return err
				}
			}
			for _, d := range dirs(sc) {
				if err := sc.Host.MkdirAll(ctx, d, 0o700); err != nil {
					return err
				}
			}
			if err := sc.Host.Chmod(ctx, sc.Paths.DataDir, 0o700); err != nil {
				return err
			}
			sc.Detail("%s", sc.Paths.DataDir)
			return nil
		},
		Done: func(_ context.Context, sc *StepContext) (bool, error) {
			for _, d := range dirs(sc) {
				if ok, err := sc.Host.Exists(d); !ok || err != nil {
					return false, err
				}
			}
			mode, err := dirMode(sc.Host, sc.Paths.DataDir)
			return mode == 0o700, err
		},
		// Reset undoes steps in reverse, so this runs last and takes whatever is left with it. A
		// data dir that is a mount point (a disk of its own) is emptied and stays mounted, ready
		// for the next install.
		Undo: func(ctx context.Context, sc *StepContext) error {
			dir := sc.Paths.DataDir
			mounts, err := host.MountTable(sc.Host)
			if err != nil {
				return fmt.Errorf("read mount table: %w", err)
			}
			if !slices.ContainsFunc(mounts, func(m host.Mount) bool { return m.Point == dir }) {
				sc.Detail("removed %s", dir)
				return sc.Host.RemoveAll(ctx, dir)
			}
			sc.Detail("emptied %s, which stays mounted", dir)
			before, err := sc.Host.ReadFile(sc.Paths.ModeBeforeFile())
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
			}
			if err := removeEntries(ctx, sc.Host, dir, func(name string) bool { return !isFilesystemEntry(name) }); err != nil {
				return err
			}
			if len(before) == 0 {
				return nil
			}
			mode, err := strconv.ParseUint(strings.TrimSpace(string(before)), 0, 32)
			if err != nil {
				return fmt.Errorf("%s: %q is not a mode: %w", sc.Paths.ModeBeforeFile(), before, err)
			}
			return sc.Host.Chmod(ctx, dir, fs.FileMode(mode).Perm())
		},
	}
}

func writeInstallState() Step {
	return writeFile("write-install-state", "Record the install", func(sc *StepContext) string { return sc.Paths.State() },
		func(sc *StepContext) ([]byte, error) { return stateOf(sc).marshal() })
}

// recordLicense keeps the license installed with, without its signature: support bundles carry it,
// and a signature is a credential to whoever holds the spec.
func recordLicense() Step {
	return writeFile("write-license", "Record the license, without its signature", func(sc *StepContext) string { return sc.Paths.License() },
		func(sc *StepContext) ([]byte, error) {
			unsigned := *sc.License
			unsigned.Signature = nil
			return unsigned.Marshal()
		})
}

// writePreflightResults keeps the host preflights' verdicts in the data dir, for support bundles.
func writePreflightResults() Step {
	return writeFile("write-preflight-results", "Record the host preflights' results", func(sc *StepContext) string { return sc.Paths.PreflightResults() },
		func(sc *StepContext) ([]byte, error) { return json.MarshalIndent(sc.Preflights, "", "  ") })
}

// writeFile is a step that writes one generated file (mode 0600: they may hold addresses and
// identities), done when the file already has exactly that content.
func writeFile(name, title string, path func(*StepContext) string, content func(*StepContext) ([]byte, error)) Step {
	return Step{
		Name:  name,
		Title: title,
		Run: func(ctx context.Context, sc *StepContext) error {
			data, err := content(sc)
			if err != nil {
				return err
			}
			sc.Detail("%s", path(sc))
			return sc.Host.WriteFile(ctx, path(sc), data, 0o600)
		},
		Done: func(_ context.Context, sc *StepContext) (bool, error) {
			want, err := content(sc)
			if err != nil {
				return false, err
			}
			return sameBytes(sc, path(sc), want)
		},
		Undo: func(ctx context.Context, sc *StepContext) error {
			return sc.Host.RemoveAll(ctx, path(sc))
		},
	}
}
