package missioncontrol

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"github.com/datastax/mission-control/operators/missioncontrol/api/v1beta1"
)

// cleanUp deletes what the MissionControlCluster created in every target it wrote to, then lets
// it go. A target still finalizing its K8ssandraCluster holds the deletion until it is done; one
// that cannot be reached holds it until DeletionTimeout has passed since it began; after that its
// leftovers are reported in an event and left behind.
func (r *Reconciler) cleanUp(ctx context.Context, mcc *v1beta1.MissionControlCluster, k8ssandra map[string]any, targets []*target, planes map[string]*DataPlane) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(mcc, finalizer) {
		return ctrl.Result{}, nil
	}
	// Where it wrote, and where it may have written since its status was last recorded; a
	// context that was never registered holds nothing to clean up.
	keys := slices.Clone(mcc.Status.Targets)
	for _, t := range targets {
		if !errors.Is(t.Err, errNotRegistered) && !slices.Contains(keys, t.Key) {
			keys = append(keys, t.Key)
		}
	}
	var pending []string
	deleting := false
	for _, key := range keys {
		c, name, err := r.Local, "local", error(nil)
		if key != "" {
			dp := planes[key]
			switch {
			case dp == nil:
				err = errors.New("no longer registered")
			case dp.Err != nil:
				err = dp.Err
			}
			if dp != nil {
				c, name = dp.Client, dp.Context
			} else {
				name = key
			}
		}
		if err == nil {
			var gone bool
			if gone, err = deleteOwned(ctx, c, mcc, ownedSecrets(mcc, k8ssandra)); err == nil && !gone {
				err = errStillDeleting
			}
		}
		if err != nil {
			pending = append(pending, fmt.Sprintf("%s (%v)", name, err))
			deleting = deleting || errors.Is(err, errStillDeleting)
		}
	}
	if len(pending) > 0 {
		// A target that is finalizing its K8ssandraCluster is waited for whatever the time: it
		// answers, and giving up would leave its Secrets behind while its datacenters go.
		waited := r.Now().Sub(mcc.DeletionTimestamp.Time)
		if deleting || waited < r.DeletionTimeout {
			r.event(mcc, corev1.EventTypeWarning, "CleanupPending", "waiting to clean up in %s", strings.Join(pending, ", "))
			return ctrl.Result{RequeueAfter: min(r.PendingResync, max(r.DeletionTimeout-waited, time.Second))}, nil
		}
		r.event(mcc, corev1.EventTypeWarning, "CleanupAbandoned",
			"gave up after %s: K8ssandraCluster %s/%s and its Secrets remain in %s; delete them there", r.DeletionTimeout, mcc.Namespace, mcc.Name, strings.Join(pending, ", "))
	}
	patch := client.MergeFrom(mcc.DeepCopy())
	controllerutil.RemoveFinalizer(mcc, finalizer)
	if err := r.Client.Patch(ctx, mcc, patch); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	return ctrl.Result{}, nil
}

// errStillDeleting holds a deletion while a target finalizes its K8ssandraCluster.
var errStillDeleting = errors.New("its K8ssandraCluster is still being deleted")

// deleteOwned deletes the K8ssandraCluster and, once it is gone, the Secrets (by name: a data
// plane grants no deletecollection) and the NetworkPolicy the operator wrote for mcc in one
// cluster; gone is false until then. k8ssandra-operator's finalizer removes the datacenters
// first, and cass-operator cannot finalize a datacenter whose superuser Secret is gone.
func deleteOwned(ctx context.Context, c client.Client, mcc *v1beta1.MissionControlCluster, secrets []string) (gone bool, err error) {
	kc := &unstructured.Unstructured{}
	kc.SetGroupVersionKind(k8ssandraClusterGVK)
	kc.SetNamespace(mcc.Namespace)
	kc.SetName(mcc.Name)
	if err := c.Delete(ctx, kc); err != nil && !apierrors.IsNotFound(err) {
		return false, fmt.Errorf("delete K8ssandraCluster: %w", err)
	}
	switch err := c.Get(ctx, client.ObjectKeyFromObject(kc), kc); {
	case err == nil:
		return false, nil
	case !apierrors.IsNotFound(err):
		return false, fmt.Errorf("read K8ssandraCluster: %w", err)
	}
	for _, name := range secrets {
		if err := c.Delete(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: mcc.Namespace, Name: name}}); err != nil && !apierrors.IsNotFound(err) {
			return false, fmt.Errorf("delete Secret %s/%s: %w", mcc.Namespace, name, err)
		}
	}
	return true, deleteInternodePolicy(ctx, c, mcc)
}
