package installer

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/datastax/mission-control/charts"
	"github.com/datastax/mission-control/installer/preflight"
	"github.com/datastax/mission-control/internal/check"
	"github.com/datastax/mission-control/internal/contract"
	"github.com/datastax/mission-control/internal/datadir"
	"github.com/datastax/mission-control/internal/host"
	"github.com/datastax/mission-control/internal/license"
	"github.com/datastax/mission-control/internal/localvolume"
	"github.com/datastax/mission-control/internal/network"
	"github.com/datastax/mission-control/internal/progress"
	"github.com/datastax/mission-control/runtime/k0s"
	"github.com/datastax/mission-control/runtime/payload"
)

// Env is the machine an install or reset runs against and how it reports.
type Env struct {
	// Host makes the changes: host.System{} for real, a *host.Recorder for a dry run.
	Host    host.Host
	Network network.HostNetwork
	// Facts gathers the host facts preflights judge.
	Facts    func(context.Context, preflight.Input) (preflight.Facts, error)
	Now      func() time.Time
	Version  string
	Log      *slog.Logger
	Progress progress.Reporter
	// Payload returns the runtime payload (payload.Embedded in a real binary).
	Payload func() (*payload.Payload, error)
	// Self is the path of the running mission-control binary, copied into the data dir.
	Self string
	// Cluster waits for the runtime: LiveCluster for real, PlannedCluster in a dry run.
	Cluster Cluster
	// JoinCluster reads the cluster a node joins (LiveJoinCluster, dry runs included: it only
	// reads).
	JoinCluster JoinCluster
	// ResetTimeout bounds k0s' own reset within reset (k0s.ResetTimeout when zero); past it,
	// reset ends the runtime's processes and removes its mounts and files itself.
	ResetTimeout time.Duration
}

// Install installs mission-control as configured.
type Install struct {
	Config Config
	Env    Env
	// Confirm, if set, is asked once, after the checks and before the first change, with what
	// they found.
	Confirm func(Findings) error
	// JournalHost, if set, writes the install journal instead of Env.Host: a dry run gives it a
	// recorder of its own, so that journaling does not clutter the plan.
	JournalHost host.Host
}

// Findings are what an install did and what its checks found.
type Findings struct {
	Mode    string
	DataDir string
	// Steps are the results of the steps that ran, in order.
	Steps []Result
	// License, Network, Node and Preflights are what the check steps established (empty past
	// the step that failed).
	License    *license.License
	Network    network.Plan
	Node       network.Node
	Preflights check.Report
}

func findingsOf(sc *StepContext, steps []Result) Findings {
	return Findings{Mode: sc.Config.Mode, DataDir: sc.Config.DataDir, Steps: steps,
		License: sc.License, Network: sc.Plan, Node: sc.Node, Preflights: sc.Preflights}
}

// Run validates the config, then runs the plan.
func (i *Install) Run(ctx context.Context) (Findings, error) {
	results, sc, err := i.run(ctx)
	if sc == nil {
		return Findings{Mode: i.Config.Mode, DataDir: i.Config.DataDir}, err
	}
	return findingsOf(sc, results), err
}

// run is Run, returning the step context too (its tests ask the steps about their effects).
func (i *Install) run(ctx context.Context) ([]Result, *StepContext, error) {
	if errs := i.Config.Validate(); len(errs) > 0 {
		return nil, nil, errors.Join(errs...)
	}
	sc := newStepContext(i.Config, i.Env)
	journalHost := i.JournalHost
	if journalHost == nil {
		journalHost = i.Env.Host
	}
	journal, err := OpenJournal(journalHost, sc.Paths.Journal())
	if err != nil {
		return nil, sc, err
	}
	runner := Runner{Journal: journal, Progress: i.Env.Progress}
	if i.Confirm != nil {
		runner.BeforeChanges = func(sc *StepContext) error { return i.Confirm(findingsOf(sc, nil)) }
	}
	results, err := runner.Install(ctx, sc, Plan(i.Config))
	return results, sc, err
}

// newStepContext is what the steps of cfg's plan share on env.
func newStepContext(cfg Config, env Env) *StepContext {
	return &StepContext{
		Config:  cfg,
		Paths:   cfg.Paths(),
		Host:    env.Host,
		Network: env.Network,
		Facts:   env.Facts,
		Now:     env.Now,
		Version: env.Version,
		Log:     env.Log,
		Payload: env.Payload,
		Self:    env.Self,
		Cluster: env.Cluster,

		JoinCluster: env.JoinCluster,
		progress:    env.Progress,

		ResetTimeout: env.ResetTimeout,
	}
}

// Reset removes an install from the data dir, partial or complete.
type Reset struct {
	DataDir string
	Env     Env
	// Confirm, if set, is asked before anything is removed, with what was installed (the zero
	// State when the install stopped before recording it).
	Confirm func(State) error
}

// Run undoes every step of the install recorded in the data dir. It refuses a data dir that does
// not hold a mission-control install, and returns ErrNotInstalled when there is nothing to reset.
func (r *Reset) Run(ctx context.Context) ([]Result, error) {
	if err := ValidateDataDir(r.DataDir); err != nil {
		return nil, err
	}
	paths := datadir.Layout{DataDir: r.DataDir}
	names, err := r.Env.Host.ReadDir(r.DataDir)
	names = slices.DeleteFunc(names, isFilesystemEntry)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotInstalled
	}
	if err != nil {
		return nil, fmt.Errorf("--data-dir %s: %w", r.DataDir, err)
	}
	state, err := LoadState(r.Env.Host, paths)
	switch {
	case errors.Is(err, ErrNotInstalled) && len(names) == 0:
		return nil, ErrNotInstalled
	case errors.Is(err, ErrNotInstalled) && !slices.Contains(names, datadir.JournalFile):
		return nil, fmt.Errorf("--data-dir %s holds no mission-control install (no install.yaml or journal.json): refusing to remove it", r.DataDir)
	case err != nil && !errors.Is(err, ErrNotInstalled):
		// A damaged state file must not keep reset from cleaning up.
		r.Env.Log.Warn("install state unreadable; resetting from the data dir alone", "error", err)
	}
	if r.Confirm != nil {
		if err := r.Confirm(state); err != nil {
			return nil, err
		}
	}
	cfg := DefaultConfig()
	cfg.DataDir = r.DataDir
	if state.Mode != "" {
		cfg.Mode, cfg.ReleaseName, cfg.ContextName, cfg.Role, cfg.Joined = state.Mode, state.ReleaseName, state.ContextName, state.Role, state.Joined
	}
	runner := Runner{Progress: r.Env.Progress}
	return runner.Reset(ctx, newStepContext(cfg, r.Env), Plan(cfg))
}

// Status is what status reports about an install.
type Status struct {
	Installed bool           `json:"installed"`
	DataDir   string         `json:"dataDir"`
	State     *State         `json:"state,omitempty"`
	Steps     []JournalEntry `json:"steps,omitempty"`
	// Complete is true when every changing step of the plan has succeeded.
	Complete bool `json:"complete"`
	// Runtime is the runtime's service, API and nodes; Components the release's operators.
	Runtime    *k0s.Health        `json:"runtime,omitempty"`
	Components []charts.Component `json:"components,omitempty"`
	// Storage is the cluster's volumes: those the provisioner made, and this node's share of the
	// data dir.
	Storage *StorageStatus `json:"storage,omitempty"`
	// Etcd are the controllers' etcd members, on a controller whose runtime runs.
	Etcd []k0s.EtcdMember `json:"etcd,omitempty"`
	// Healthy: complete, the runtime healthy, and every operator of the mode Available.
	Healthy bool `json:"healthy"`
}

// Inspect reads the install recorded in the data dir and, when there is one, asks its runtime
// and operators how they are.
func Inspect(ctx context.Context, h host.Host, dataDir string) (Status, error) {
	if err := ValidateDataDir(dataDir); err != nil {
		return Status{}, err
	}
	paths := datadir.Layout{DataDir: dataDir}
	st := Status{DataDir: dataDir}
	journal, err := OpenJournal(h, paths.Journal())
	if err != nil {
		return st, err
	}
	st.Steps = journal.Entries()
	state, err := LoadState(h, paths)
	switch {
	case errors.Is(err, ErrNotInstalled):
		st.Installed = len(st.Steps) > 0 // an install that stopped before recording itself
	case err != nil:
		return st, err
	default:
		st.Installed, st.State = true, &state
		cfg := DefaultConfig()
		cfg.Role, cfg.Joined, cfg.Mode = state.Role, state.Joined, state.Mode // the plan's steps depend on them
		st.Complete = journal.Complete(Plan(cfg))
	}
	if st.Installed {
		st.inspectRuntime(ctx, h, paths)
		if st.Storage == nil { // the API did not answer: this node's volumes still count
			if err := st.inspectStorage(ctx, h, paths, nil); err != nil {
				return st, err
			}
		}
	}
	return st, nil
}

// StorageStatus counts the volumes of the platform's provisioner.
type StorageStatus struct {
	DefaultClass string `json:"defaultClass,omitempty"`
	// Volumes and Bound count the provisioner's PersistentVolumes in the cluster (when the API
	// answers).
	Volumes int `json:"volumes"`
	Bound   int `json:"bound"`
	// LocalVolumes and LocalBytes are the volume directories on this node and the bytes they hold.
	LocalVolumes int    `json:"localVolumes"`
	LocalBytes   int64  `json:"localBytes"`
	Dir          string `json:"dir"`
}

// inspectStorage counts the provisioner's volumes, in the cluster when client is not nil and in
// this node's storage dir.
func (st *Status) inspectStorage(ctx context.Context, h host.Reader, l datadir.Layout, client kubernetes.Interface) error {
	s := &StorageStatus{Dir: l.StorageDir()}
	if st.State != nil {
		s.DefaultClass = st.State.StorageClass
	}
	st.Storage = s
	local, err := localvolume.List(h, l.StorageDir())
	if err != nil {
		return err
	}
	s.LocalVolumes = len(local)
	for _, v := range local {
		s.LocalBytes += v.UsedBytes
	}
	if client == nil {
		return nil
	}
	pvs, err := client.CoreV1().PersistentVolumes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("list the volumes: %w", err)
	}
	for _, pv := range pvs.Items {
		if pv.Annotations["pv.kubernetes.io/provisioned-by"] != contract.VolumeProvisioner {
			continue
		}
		s.Volumes++
		if pv.Status.Phase == corev1.VolumeBound {
			s.Bound++
		}
	}
	return nil
}

// inspectRuntime reads the runtime and the platform's operators and judges their health.
func (st *Status) inspectRuntime(ctx context.Context, h host.Host, l datadir.Layout) {
	health := k0s.Inspect(ctx, h, l)
	st.Runtime = &health
	st.Healthy = st.Complete && health.Healthy
	if !health.APIReady || st.State == nil || st.State.Role == k0s.RoleWorker {
		return // a worker runs none of the operators, and its kubelet may not read them
	}
	members, err := k0s.EtcdMembers(ctx, h, l)
	if err != nil {
		health.APIProblem, st.Healthy = err.Error(), false
		return
	}
	st.Etcd = members
	client, err := k0s.Waiter{Layout: l, Reader: h}.Client()
	if err == nil {
		st.Components, err = charts.Components(ctx, client, st.State.ReleaseName)
	}
	if err == nil {
		err = st.inspectStorage(ctx, h, l, client)
	}
	if err != nil {
		health.APIProblem, st.Healthy = err.Error(), false
		return
	}
	for _, want := range contract.Deployments(st.State.Mode == ModeControlPlane) {
		i := slices.IndexFunc(st.Components, func(c charts.Component) bool { return c.Name == want })
		if i < 0 || !st.Components[i].Available {
			st.Healthy = false
		}
	}
}

// Shell is the command mission-control shell hands the terminal to: args, or the user's shell
// (/bin/sh when $SHELL is unset) when there are none, with the install's admin kubeconfig and
// its kubectl ahead of path.
func Shell(r host.Reader, dataDir string, args []string, shell, path string) (host.Command, error) {
	if _, err := LoadState(r, datadir.Layout{DataDir: dataDir}); err != nil {
		if errors.Is(err, ErrNotInstalled) {
			return host.Command{}, fmt.Errorf("mission-control is not installed in %s: install it first, or pass its --data-dir", dataDir)
		}
		return host.Command{}, err
	}
	l := datadir.Layout{DataDir: dataDir}
	env := []string{"KUBECONFIG=" + l.Kubeconfig(), "PATH=" + l.BinDir() + ":" + path}
	if len(args) > 0 {
		return host.Command{Name: args[0], Args: args[1:], Env: env}, nil
	}
	return host.Command{Name: cmp.Or(shell, "/bin/sh"), Env: env}, nil
}
