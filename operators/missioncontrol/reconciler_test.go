package missioncontrol

import (
	"context"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/datastax/mission-control/operators/missioncontrol/api/v1beta1"
)

func mcc(contexts ...string) *v1beta1.MissionControlCluster {
	c := &v1beta1.MissionControlCluster{
		ObjectMeta: metav1.ObjectMeta{Name: "demo", Namespace: "demo", Generation: 3},
		Spec:       v1beta1.MissionControlClusterSpec{K8ssandra: v1beta1.K8ssandraClusterTemplate{Cassandra: &v1beta1.CassandraClusterTemplate{}}},
	}
	for i, ctx := range contexts {
		c.Spec.K8ssandra.Cassandra.Datacenters = append(c.Spec.K8ssandra.Cassandra.Datacenters,
			v1beta1.DatacenterTemplate{Meta: v1beta1.DatacenterMeta{Name: "dc" + string(rune('1'+i))}, K8sContext: ctx, Size: 3})
	}
	return c
}

func clientConfig(name, contextName string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion("config.k8ssandra.io/v1beta1")
	u.SetKind("ClientConfig")
	u.SetName(name)
	u.SetNamespace(ClientConfigNamespace)
	if contextName != "" {
		_ = unstructured.SetNestedField(u.Object, contextName, "spec", "contextName")
	}
	return u
}

func reconcile(t *testing.T, objs ...client.Object) metav1.Condition {
	t.Helper()
	scheme, err := Scheme()
	if err != nil {
		t.Fatal(err)
	}
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...).WithStatusSubresource(&v1beta1.MissionControlCluster{}).Build()
	r := &Reconciler{Client: c}
	if _, err := r.Reconcile(context.Background(), ctrl.Request{NamespacedName: types.NamespacedName{Namespace: "demo", Name: "demo"}}); err != nil {
		t.Fatal(err)
	}
	var got v1beta1.MissionControlCluster
	if err := c.Get(context.Background(), types.NamespacedName{Namespace: "demo", Name: "demo"}, &got); err != nil {
		t.Fatal(err)
	}
	if got.Status.ObservedGeneration != 3 {
		t.Errorf("observedGeneration = %d", got.Status.ObservedGeneration)
	}
	cond := meta.FindStatusCondition(got.Status.Conditions, ConditionDataPlanesReachable)
	if cond == nil {
		t.Fatal("no DataPlanesReachable condition")
	}
	return *cond
}

func TestReconcileRegisteredDataPlanes(t *testing.T) {
	cond := reconcile(t, mcc("", "DP_WEST", "dp-east"), clientConfig("dp-west", "DP_WEST"), clientConfig("dp-east", ""))
	if cond.Status != metav1.ConditionTrue || cond.Reason != "Registered" {
		t.Errorf("condition = %+v", cond)
	}
}

func TestReconcileUnknownDataPlane(t *testing.T) {
	cond := reconcile(t, mcc("", "DP_WEST", "DP_SOUTH", "DP_WEST"), clientConfig("dp-west", "DP_WEST"))
	if cond.Status != metav1.ConditionFalse || cond.Reason != "UnknownContext" ||
		cond.Message != "no data plane is registered for k8sContext DP_SOUTH: register it with mcctl register" {
		t.Errorf("condition = %+v", cond)
	}
}

func TestReconcileGoneObject(t *testing.T) {
	scheme, _ := Scheme()
	r := &Reconciler{Client: fake.NewClientBuilder().WithScheme(scheme).Build()}
	if _, err := r.Reconcile(context.Background(), ctrl.Request{NamespacedName: types.NamespacedName{Namespace: "demo", Name: "gone"}}); err != nil {
		t.Errorf("a deleted object: %v", err)
	}
}
