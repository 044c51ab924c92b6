package missioncontrol

import (
	"context"
	"fmt"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/datastax/mission-control/operators/missioncontrol/api/v1beta1"
)

// ClientConfigNamespace holds the registered data planes' ClientConfigs (mcctl register).
const ClientConfigNamespace = "mission-control"

// clientConfigs is k8ssandra's ClientConfig list, read as unstructured: its Go package needs
// an older controller-runtime than the operator's.
var clientConfigs = schema.GroupVersionKind{Group: "config.k8ssandra.io", Version: "v1beta1", Kind: "ClientConfigList"}

// Condition types of a MissionControlCluster.
const (
	ConditionDataPlanesReachable = "DataPlanesReachable"
)

// Reconciler reconciles MissionControlClusters. This version validates each cluster against
// the registered data planes and reports it in the status; planning and writing the
// K8ssandraClusters is the next step.
type Reconciler struct {
	client.Client
}

// SetupWithManager registers the reconciler.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).For(&v1beta1.MissionControlCluster{}).Complete(r)
}

// Reconcile validates one MissionControlCluster and records the result in its status.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var mcc v1beta1.MissionControlCluster
	if err := r.Get(ctx, req.NamespacedName, &mcc); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	contexts, err := r.registeredContexts(ctx)
	if err != nil {
		return ctrl.Result{}, err
	}
	cond := metav1.Condition{Type: ConditionDataPlanesReachable, Status: metav1.ConditionTrue, Reason: "Registered",
		Message: "every datacenter's k8sContext names this control plane or a registered data plane", ObservedGeneration: mcc.Generation}
	if missing := unknownContexts(mcc, contexts); len(missing) > 0 {
		cond.Status, cond.Reason = metav1.ConditionFalse, "UnknownContext"
		cond.Message = fmt.Sprintf("no data plane is registered for k8sContext %s: register it with mcctl register", strings.Join(missing, ", "))
	}
	mcc.Status.ObservedGeneration = mcc.Generation
	meta.SetStatusCondition(&mcc.Status.Conditions, cond)
	if err := r.Status().Update(ctx, &mcc); err != nil && !apierrors.IsConflict(err) {
		return ctrl.Result{}, fmt.Errorf("update status of %s: %w", req.NamespacedName, err)
	}
	return ctrl.Result{}, nil
}

// registeredContexts are the contexts of the registered data planes' ClientConfigs: their
// spec.contextName, or their name when it is empty.
func (r *Reconciler) registeredContexts(ctx context.Context) ([]string, error) {
	list := &unstructured.UnstructuredList{}
	list.SetGroupVersionKind(clientConfigs)
	if err := r.List(ctx, list, client.InNamespace(ClientConfigNamespace)); err != nil {
		if meta.IsNoMatchError(err) {
			return nil, nil // k8ssandra-operator's CRDs are not installed: nothing is registered
		}
		return nil, fmt.Errorf("list ClientConfigs: %w", err)
	}
	var names []string
	for _, cc := range list.Items {
		name, _, _ := unstructured.NestedString(cc.Object, "spec", "contextName")
		if name == "" {
			name = cc.GetName()
		}
		names = append(names, name)
	}
	return names, nil
}

// unknownContexts lists the datacenters' k8sContexts that are neither local (empty) nor registered.
func unknownContexts(mcc v1beta1.MissionControlCluster, registered []string) []string {
	var missing []string
	if mcc.Spec.K8ssandra.Cassandra == nil {
		return nil
	}
	for _, dc := range mcc.Spec.K8ssandra.Cassandra.Datacenters {
		if dc.K8sContext != "" && !slices.Contains(registered, dc.K8sContext) && !slices.Contains(missing, dc.K8sContext) {
			missing = append(missing, dc.K8sContext)
		}
	}
	return missing
}
