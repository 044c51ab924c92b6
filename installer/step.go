package installer

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/datastax/mission-control/bundle"
	"github.com/datastax/mission-control/installer/preflight"
	"github.com/datastax/mission-control/internal/check"
	"github.com/datastax/mission-control/internal/datadir"
	"github.com/datastax/mission-control/internal/host"
	"github.com/datastax/mission-control/internal/license"
	"github.com/datastax/mission-control/internal/network"
	"github.com/datastax/mission-control/internal/progress"
	"github.com/datastax/mission-control/runtime/k0s"
	"github.com/datastax/mission-control/runtime/payload"
)

// Step is one named unit of an install.
//
// A check step only reads the host: it runs on every install, dry runs included, and is never
// journaled, because what it checks (the license's expiry, the host's routes) can change between
// runs. Any other step changes the host and must be idempotent; the runner skips it on a re-run
// only when the journal says it succeeded and Done confirms its effect is still in place.
type Step struct {
	// Name is the stable kebab-case key of the step in the journal, e.g. "write-runtime-config".
	Name string
	// Title is what progress shows, e.g. "Write the runtime configuration".
	Title string
	// Check marks a read-only step.
	Check bool
	// Run does the step's work through sc.Host.
	Run func(ctx context.Context, sc *StepContext) error
	// Done, if set, reports whether the step's effect is already in place.
	Done func(ctx context.Context, sc *StepContext) (bool, error)
	// Undo, if set, removes the step's effect; reset calls it even after a partial run, so it
	// must cope with the effect being partly or wholly absent.
	Undo func(ctx context.Context, sc *StepContext) error
}

// StepContext is what steps share: the inputs, the host, and what earlier steps found.
type StepContext struct {
	Config  Config
	Paths   datadir.Layout
	Host    host.Host
	Network network.HostNetwork
	// Facts gathers the host facts preflights judge.
	Facts func(context.Context, preflight.Input) (preflight.Facts, error)
	// Now is the clock licenses are checked against.
	Now func() time.Time
	// Version is this binary's version, recorded in the install state.
	Version string
	Log     *slog.Logger
	// Payload returns the runtime payload to stage; Self is this binary, copied into the data dir.
	Payload func() (*payload.Payload, error)
	Self    string
	// Cluster waits for the runtime to serve.
	Cluster Cluster
	// JoinCluster reads the cluster a node joins.
	JoinCluster JoinCluster
	// ResetTimeout bounds k0s' own reset (k0s.ResetTimeout when zero).
	ResetTimeout time.Duration

	// Found by the check steps, for the steps after them.
	License    *license.License
	Plan       network.Plan
	Node       network.Node
	Preflights check.Report
	Bundle     *bundle.Manifest // the verified --airgap-bundle's
	// OIDC is the issuer the API trusts: install's --oidc-* flags (checked by check-sign-in), or
	// the cluster's for a joining controller.
	OIDC *k0s.OIDC
	// A join's: its token, and the cluster's facts and nodes read with it.
	Join         *k0s.JoinToken
	JoinFacts    *k0s.JoinFacts
	ClusterNodes []k0s.Node

	detail   string
	progress progress.Reporter
	journal  *Journal
	resuming bool // an unfinished install of this data dir is being resumed
}

func (sc *StepContext) resetTimeout() time.Duration {
	return cmp.Or(sc.ResetTimeout, k0s.ResetTimeout)
}

// Detail sets the one-line result progress shows for the current step.
func (sc *StepContext) Detail(format string, args ...any) {
	sc.detail = fmt.Sprintf(format, args...)
}

// Update shows how the current step is getting on, while it runs.
func (sc *StepContext) Update(format string, args ...any) {
	if sc.progress != nil {
		sc.progress.Update(fmt.Sprintf(format, args...))
	}
}
