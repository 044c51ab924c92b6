package missioncontrol

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// The operator's own metrics; controller-runtime adds reconcile counts and latencies
// (controller_runtime_reconcile_total, controller_runtime_reconcile_time_seconds) and workqueue
// depths, all served on --metrics-bind-address.
var dataPlaneReachable = prometheus.NewGaugeVec(prometheus.GaugeOpts{
	Name: "mission_control_data_plane_reachable",
	Help: "Whether the last reconcile that needed a data plane reached it (1) or not (0), by normalized context.",
}, []string{"context"})

func init() {
	metrics.Registry.MustRegister(dataPlaneReachable)
}
