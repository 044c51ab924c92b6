package missioncontrol

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/datastax/mission-control/operators/missioncontrol/api/v1beta1"
)

// Condition types of a MissionControlCluster.
const (
	ConditionReady               = "Ready"
	ConditionProgressing         = "Progressing"
	ConditionDegraded            = "Degraded"
	ConditionCertificatesReady   = "CertificatesReady"
	ConditionDataPlanesReachable = "DataPlanesReachable"
)

// datacenterStatuses are the target's datacenters as its K8ssandraCluster reports them.
func datacenterStatuses(mcc *v1beta1.MissionControlCluster, k8ssandra map[string]any, t *target, kc *unstructured.Unstructured) []v1beta1.DatacenterStatus {
	rawDCs, _, _ := unstructured.NestedSlice(k8ssandra, "cassandra", "datacenters")
	var out []v1beta1.DatacenterStatus
	for _, i := range t.Datacenters {
		raw, _ := rawDCs[i].(map[string]any)
		resource, _ := datacenterNames(mcc, raw)
		out = append(out, datacenterStatus(kc, resource, mcc.Spec.K8ssandra.Cassandra.Datacenters[i], t))
	}
	return out
}

// datacenterStatus reads one datacenter's state from its target's K8ssandraCluster status.
// readyReplicas counts the nodes cass-operator reports started (nodeStatuses), at most size.
func datacenterStatus(kc *unstructured.Unstructured, resource string, dc v1beta1.DatacenterTemplate, t *target) v1beta1.DatacenterStatus {
	st := v1beta1.DatacenterStatus{Name: dc.Meta.Name, Context: t.name(), Size: dc.Size, Stopped: dc.Stopped, Progress: "Pending"}
	if t.Err != nil {
		st.Progress = "Unreachable"
		return st
	}
	if kc == nil {
		return st
	}
	cass, found, _ := unstructured.NestedMap(kc.Object, "status", "datacenters", resource, "cassandra")
	if !found {
		return st
	}
	if p, _, _ := unstructured.NestedString(cass, "cassandraOperatorProgress"); p != "" {
		st.Progress = p
	}
	nodes, _, _ := unstructured.NestedMap(cass, "nodeStatuses")
	st.ReadyReplicas = int32(min(len(nodes), int(dc.Size)))
	if dc.Stopped {
		st.ReadyReplicas = 0
	}
	return st
}

// datacenterReady: a running datacenter is ready when cass-operator reports it Ready with every
// node started; a stopped one when cass-operator has finished stopping it.
func datacenterReady(st v1beta1.DatacenterStatus) bool {
	if st.Stopped {
		return st.Progress == "Ready"
	}
	return st.Progress == "Ready" && st.ReadyReplicas == st.Size
}

// setCondition sets a condition for the current generation.
func setCondition(mcc *v1beta1.MissionControlCluster, kind string, ok bool, reason, message string) {
	status := metav1.ConditionFalse
	if ok {
		status = metav1.ConditionTrue
	}
	cond := metav1.Condition{Type: kind, Status: status, Reason: reason, Message: message, ObservedGeneration: mcc.Generation}
	meta.SetStatusCondition(&mcc.Status.Conditions, cond)
}

// setConditions derives the conditions from what this reconcile found; it returns Ready.
func (r *Reconciler) setConditions(mcc *v1beta1.MissionControlCluster, targets []*target, policy certPolicy, certErr error, storeErrs map[string]error) bool {
	var unreachable, unknown []string
	for _, t := range targets {
		if t.Err == nil {
			continue
		}
		if errors.Is(t.Err, errNotRegistered) {
			unknown = append(unknown, t.Err.Error())
		} else {
			unreachable = append(unreachable, t.Err.Error())
		}
	}
	problems := append(slices.Clone(unknown), unreachable...)
	switch {
	case len(unknown) > 0:
		setCondition(mcc, ConditionDataPlanesReachable, false, "UnknownContext", strings.Join(problems, "; "))
	case len(unreachable) > 0:
		setCondition(mcc, ConditionDataPlanesReachable, false, "Unreachable", strings.Join(problems, "; "))
	default:
		setCondition(mcc, ConditionDataPlanesReachable, true, "Reachable", "every datacenter's cluster is reachable")
	}

	switch {
	case certErr != nil:
		setCondition(mcc, ConditionCertificatesReady, false, "IssuerError", certErr.Error())
		problems = append(problems, "certificates: "+certErr.Error())
	case !policy.Issue:
		setCondition(mcc, ConditionCertificatesReady, true, "NotRequested", "the operator issues no internode certificates for this cluster")
	case len(storeErrs) > 0:
		var msgs []string
		for _, err := range storeErrs {
			msgs = append(msgs, err.Error())
		}
		slices.Sort(msgs)
		setCondition(mcc, ConditionCertificatesReady, false, "StoresNotWritten", strings.Join(msgs, "; "))
		problems = append(problems, msgs...)
	default:
		setCondition(mcc, ConditionCertificatesReady, true, "Issued", "internode keystores and truststores are current in every reachable cluster")
	}

	readyDCs := 0
	for _, st := range mcc.Status.Datacenters {
		if datacenterReady(st) {
			readyDCs++
		}
	}
	total := len(mcc.Status.Datacenters)
	ready := total > 0 && readyDCs == total && len(problems) == 0
	msg := fmt.Sprintf("%d/%d datacenters ready", readyDCs, total)
	setCondition(mcc, ConditionReady, ready, map[bool]string{true: "DatacentersReady", false: "DatacentersNotReady"}[ready], msg)
	if len(problems) > 0 {
		setCondition(mcc, ConditionDegraded, true, "DatacentersAffected", strings.Join(problems, "; "))
	} else {
		setCondition(mcc, ConditionDegraded, false, "Healthy", "nothing stands in the way")
	}
	setCondition(mcc, ConditionProgressing, !ready, map[bool]string{true: "Reconciling", false: "Reconciled"}[!ready], msg)
	return ready
}

// recordReachability updates the data plane reachability metric.
func (r *Reconciler) recordReachability(targets []*target) {
	for _, t := range targets {
		if t.local() {
			continue
		}
		v := 1.0
		if t.Err != nil {
			v = 0
		}
		dataPlaneReachable.WithLabelValues(t.Key).Set(v)
	}
}
