// Package missioncontrol is the mission-control-operator: it runs on control planes and turns
// MissionControlClusters into K8ssandraClusters in the data planes their datacenters name.
package missioncontrol

import (
	"context"
	"flag"
	"fmt"
	"os"

	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	"github.com/datastax/mission-control/operators/missioncontrol/api/v1beta1"
)

// Options configure the operator process.
type Options struct {
	LeaderElect    bool
	ProbeAddress   string
	MetricsAddress string
	WebhookCertDir string
}

// Main parses the flags and runs the operator until SIGTERM.
func Main() {
	var o Options
	flag.BoolVar(&o.LeaderElect, "leader-elect", false, "elect a leader, so that only one replica reconciles")
	flag.StringVar(&o.ProbeAddress, "health-probe-bind-address", ":8081", "where /healthz and /readyz are served")
	flag.StringVar(&o.MetricsAddress, "metrics-bind-address", "0", "where /metrics is served; 0 turns it off")
	flag.StringVar(&o.WebhookCertDir, "webhook-cert-dir", "", "directory of the webhook serving certificate (tls.crt, tls.key)")
	zapOpts := zap.Options{}
	zapOpts.BindFlags(flag.CommandLine)
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zapOpts)))
	if err := Run(ctrl.SetupSignalHandler(), o); err != nil {
		fmt.Fprintln(os.Stderr, "mission-control-operator:", err)
		os.Exit(1)
	}
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

// Run runs the operator's manager until ctx ends.
func Run(ctx context.Context, o Options) error {
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
		HealthProbeBindAddress: o.ProbeAddress,
		Metrics:                metricsserver.Options{BindAddress: o.MetricsAddress},
		WebhookServer:          webhook.NewServer(webhook.Options{CertDir: o.WebhookCertDir}),
		LeaderElection:         o.LeaderElect,
		LeaderElectionID:       "mission-control-operator.missioncontrol.datastax.com",
	})
	if err != nil {
		return fmt.Errorf("create manager: %w", err)
	}
	if err := (&Reconciler{Client: mgr.GetClient()}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("set up the MissionControlCluster controller: %w", err)
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return err
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		return err
	}
	return mgr.Start(ctx)
}
