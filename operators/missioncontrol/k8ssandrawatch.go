package missioncontrol

import (
	"context"
	"fmt"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/datastax/mission-control/internal/contract"
	"github.com/datastax/mission-control/operators/missioncontrol/api/v1beta1"
)

// Which namespaces the control plane's k8ssandra-operator watches.
//
// In its control-plane mode k8ssandra-operator connects to every ClientConfig in the namespaces it
// watches and feeds caches of each remote cluster with it. The registrations' ClientConfigs (in
// contract.Namespace) carry credentials made for the mission-control-operator alone, which may
// not list the data plane's Secrets or ConfigMaps cluster-wide: k8ssandra-operator's caches would
// never sync and it would reconcile nothing, the control plane's own datacenters included. It
// needs no remote cluster here (each cluster's K8ssandraCluster is local, see desired.go), so it
// watches the namespaces that hold MissionControlClusters, and default, never contract.Namespace:
// its WATCH_NAMESPACE comes from the ConfigMap K8ssandraWatch, which this operator keeps, and it
// restarts (a rollout of its Deployment) when that changes.
const (
	// K8ssandraWatch is the ConfigMap, in contract.Namespace, of k8ssandra-operator's
	// WATCH_NAMESPACE (key K8ssandraWatchKey); the chart's control-plane mode reads it.
	K8ssandraWatch    = "k8ssandra-operator-watch"
	K8ssandraWatchKey = "namespaces"
	// watchAnnotation, on k8ssandra-operator's pod template, restarts it when the list changes.
	watchAnnotation = "missioncontrol.datastax.com/watch-namespaces"
)

// k8ssandraNamespaces is WATCH_NAMESPACE for the MissionControlClusters in mccs.
func k8ssandraNamespaces(mccs []v1beta1.MissionControlCluster) string {
	namespaces := []string{metav1.NamespaceDefault}
	for _, m := range mccs {
		if m.Namespace != contract.Namespace {
			namespaces = append(namespaces, m.Namespace)
		}
	}
	slices.Sort(namespaces)
	return strings.Join(slices.Compact(namespaces), ",")
}

// syncK8ssandraWatch keeps k8ssandra-operator's WATCH_NAMESPACE to the MissionControlClusters'
// namespaces; it writes only when the list differs from the one it last wrote.
func (r *Reconciler) syncK8ssandraWatch(ctx context.Context) error {
	var mccs v1beta1.MissionControlClusterList
	if err := r.Client.List(ctx, &mccs); err != nil {
		return fmt.Errorf("list MissionControlClusters: %w", err)
	}
	want := k8ssandraNamespaces(mccs.Items)
	r.watchMu.Lock()
	defer r.watchMu.Unlock()
	if want == r.watched {
		return nil
	}
	cm := corev1ac.ConfigMap(K8ssandraWatch, contract.Namespace).WithLabels(map[string]string{labelManagedBy: managedBy}).
		WithData(map[string]string{K8ssandraWatchKey: want})
	if err := r.Local.Apply(ctx, cm, fieldOwner, client.ForceOwnership); err != nil {
		return fmt.Errorf("apply ConfigMap %s/%s: %w", contract.Namespace, K8ssandraWatch, err)
	}
	// An apply would create a Deployment that is not there (nothing to restart then).
	err := r.Local.Get(ctx, client.ObjectKey{Namespace: contract.Namespace, Name: contract.K8ssandraOperator}, &appsv1.Deployment{})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("read Deployment %s/%s: %w", contract.Namespace, contract.K8ssandraOperator, err)
	}
	if err == nil {
		restart := appsv1ac.Deployment(contract.K8ssandraOperator, contract.Namespace).
			WithSpec(appsv1ac.DeploymentSpec().WithTemplate(corev1ac.PodTemplateSpec().WithAnnotations(map[string]string{watchAnnotation: want})))
		if err := r.Local.Apply(ctx, restart, fieldOwner, client.ForceOwnership); err != nil {
			return fmt.Errorf("restart %s to watch %s: %w", contract.K8ssandraOperator, want, err)
		}
	}
	r.watched = want
	return nil
}
