// Package missioncontrol is the mission-control-operator: it runs on control planes and turns
// MissionControlClusters into K8ssandraClusters in the data planes their datacenters name.
package missioncontrol

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	"github.com/datastax/mission-control/internal/contract"
	"github.com/datastax/mission-control/operators/missioncontrol/api/v1beta1"
)

// Options configure the operator process.
type Options struct {
	LeaderElect    bool
	ProbeAddress   string
	MetricsAddress string
	WebhookCertDir string
	// LocalContext is this control plane's own context name.
	LocalContext string
	// DataPlaneTimeout bounds each request to a data plane.
	DataPlaneTimeout time.Duration
	// PendingResync, ReadyResync and DeletionTimeout: see Reconciler.
	PendingResync, ReadyResync, DeletionTimeout time.Duration
	// Workers reconcile different clusters at once, so that one waiting on an unreachable data
	// plane does not hold up the others.
	Workers int
}

// DefaultOptions are the flags' defaults.
func DefaultOptions() Options {
	return Options{ProbeAddress: ":8081", MetricsAddress: "0", DataPlaneTimeout: 10 * time.Second,
		PendingResync: 15 * time.Second, ReadyResync: 2 * time.Minute, DeletionTimeout: 10 * time.Minute, Workers: 8}
}

// Run reads the operator's flags from args and runs it until ctx ends (main ends ctx on SIGTERM).
func Run(ctx context.Context, args []string, errOut io.Writer) error {
	o, zapOpts, err := parseFlags(args, errOut)
	if err != nil {
		return err
	}
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zapOpts)))
	return Serve(ctx, o)
}

// parseFlags reads the command line; -h prints the flags to errOut and returns flag.ErrHelp.
func parseFlags(args []string, errOut io.Writer) (Options, zap.Options, error) {
	o := DefaultOptions()
	fs := flag.NewFlagSet("mission-control-operator", flag.ContinueOnError)
	fs.SetOutput(errOut)
	fs.BoolVar(&o.LeaderElect, "leader-elect", false, "elect a leader, so that only one replica reconciles")
	fs.StringVar(&o.ProbeAddress, "health-probe-bind-address", o.ProbeAddress, "where /healthz and /readyz are served")
	fs.StringVar(&o.MetricsAddress, "metrics-bind-address", o.MetricsAddress, "where /metrics is served; 0 turns it off")
	fs.StringVar(&o.WebhookCertDir, "webhook-cert-dir", "", "directory of the webhook serving certificate (tls.crt, tls.key)")
	fs.StringVar(&o.LocalContext, "local-context", "", "this control plane's own context name: datacenters whose k8sContext names it are local (e.g. CP_EAST)")
	fs.DurationVar(&o.DataPlaneTimeout, "data-plane-timeout", o.DataPlaneTimeout, "how long one request to a data plane may take before it counts as unreachable")
	fs.DurationVar(&o.PendingResync, "pending-resync", o.PendingResync, "how often a cluster that is not ready yet is checked in its data planes")
	fs.DurationVar(&o.ReadyResync, "ready-resync", o.ReadyResync, "how often a ready cluster is checked in its data planes")
	fs.IntVar(&o.Workers, "workers", o.Workers, "how many clusters are reconciled at once")
	fs.DurationVar(&o.DeletionTimeout, "deletion-timeout", o.DeletionTimeout, "how long deleting a cluster waits for unreachable data planes before leaving their resources behind")
	zapOpts := zap.Options{}
	zapOpts.BindFlags(fs)
	if err := fs.Parse(args); err != nil {
		return Options{}, zapOpts, err
	}
	if fs.NArg() > 0 {
		return Options{}, zapOpts, fmt.Errorf("unexpected argument %q: the operator takes flags only (see -h)", fs.Arg(0))
	}
	if o.Workers < 1 {
		return Options{}, zapOpts, fmt.Errorf("--workers %d: at least one worker is needed, e.g. --workers 8", o.Workers)
	}
	return o, zapOpts, nil
}

// Scheme has every type the operator reads or writes.
func Scheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, v1beta1.AddToScheme} {
		if err := add(s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Serve runs the operator's manager with o until ctx ends.
func Serve(ctx context.Context, o Options) error {
	scheme, err := Scheme()
	if err != nil {
		return fmt.Errorf("build scheme: %w", err)
	}
	cfg, err := ctrl.GetConfig()
	if err != nil {
		return fmt.Errorf("find the API server: %w", err)
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 scheme,
		Cache:                  CacheOptions(),
		Client:                 ClientOptions(),
		HealthProbeBindAddress: o.ProbeAddress,
		Metrics:                metricsserver.Options{BindAddress: o.MetricsAddress},
		WebhookServer:          webhook.NewServer(webhook.Options{CertDir: o.WebhookCertDir}),
		LeaderElection:         o.LeaderElect,
		LeaderElectionID:       "mission-control-operator.missioncontrol.datastax.com",
	})
	if err != nil {
		return fmt.Errorf("create manager: %w", err)
	}
	r, err := NewReconciler(mgr, o)
	if err != nil {
		return err
	}
	if err := r.SetupWithManager(mgr); err != nil {
		return fmt.Errorf("set up the MissionControlCluster controller: %w", err)
	}
	// k8ssandra-operator cannot start before its WATCH_NAMESPACE exists: written at once, not at
	// the first MissionControlCluster's reconcile.
	if err := mgr.Add(manager.RunnableFunc(func(ctx context.Context) error {
		log := ctrl.LoggerFrom(ctx)
		_ = wait.PollUntilContextCancel(ctx, 5*time.Second, true, func(ctx context.Context) (bool, error) {
			if err := r.syncK8ssandraWatch(ctx); err != nil {
				log.Error(err, "write k8ssandra-operator's namespaces (retrying)")
				return false, nil
			}
			return true, nil
		})
		return nil
	})); err != nil {
		return err
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return err
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		return err
	}
	return mgr.Start(ctx)
}

// NewReconciler wires a Reconciler to a manager made with CacheOptions and ClientOptions.
func NewReconciler(mgr ctrl.Manager, o Options) (*Reconciler, error) {
	// The control plane as a target is written and read like any data plane, uncached: a
	// cached client would watch every pod and namespace of the cluster.
	cfg := rest.CopyConfig(mgr.GetConfig())
	limitRate(cfg)
	local, err := client.New(cfg, client.Options{Scheme: mgr.GetScheme()})
	if err != nil {
		return nil, fmt.Errorf("client for the control plane: %w", err)
	}
	return &Reconciler{
		Client: mgr.GetClient(), Local: local,
		DataPlanes:   &DataPlanes{Reader: mgr.GetCache(), Scheme: mgr.GetScheme(), Timeout: o.DataPlaneTimeout},
		LocalContext: o.LocalContext, Now: time.Now, Events: mgr.GetEventRecorder("mission-control-operator"),
		PendingResync: o.PendingResync, ReadyResync: o.ReadyResync, DeletionTimeout: o.DeletionTimeout,
		Workers: max(1, o.Workers),
	}, nil
}

// CacheOptions and ClientOptions: Secrets are watched only where registrations keep their
// kubeconfigs, and read directly elsewhere; caching every Secret of the cluster would cost
// memory for nothing.
func CacheOptions() cache.Options {
	return cache.Options{ByObject: map[client.Object]cache.ByObject{&corev1.Secret{}: {Namespaces: map[string]cache.Config{contract.Namespace: {}}}}}
}

// ClientOptions: see CacheOptions.
func ClientOptions() client.Options {
	return client.Options{Cache: &client.CacheOptions{DisableFor: []client.Object{&corev1.Secret{}}}}
}

// SetupWithManager registers the reconciler. A change to any registration (a ClientConfig or a
// Secret beside it) requeues every MissionControlCluster: their clients and targets may change.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	clientConfig := &unstructured.Unstructured{}
	clientConfig.SetGroupVersionKind(contract.ClientConfigGVK)
	all := handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, _ client.Object) []reconcile.Request {
		var list v1beta1.MissionControlClusterList
		if err := mgr.GetClient().List(ctx, &list); err != nil {
			mgr.GetLogger().Error(err, "list MissionControlClusters after a registration changed")
			return nil
		}
		reqs := make([]reconcile.Request, 0, len(list.Items))
		for _, m := range list.Items {
			reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&m)})
		}
		return reqs
	})
	inRegistrations := predicate.NewPredicateFuncs(func(o client.Object) bool { return o.GetNamespace() == contract.Namespace })
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1beta1.MissionControlCluster{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(clientConfig, all, builder.WithPredicates(inRegistrations)).
		Watches(&corev1.Secret{}, all, builder.WithPredicates(inRegistrations)).
		WithOptions(controller.Options{MaxConcurrentReconciles: r.Workers}).
		Complete(r)
}
