package missioncontrol

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/datastax/mission-control/operators/missioncontrol/api/v1beta1"
)

// TestK8ssandraNamespaces: k8ssandra-operator watches default and every MissionControlCluster's
// namespace once, sorted, and never the registrations' namespace.
func TestK8ssandraNamespaces(t *testing.T) {
	mcc := func(ns string) v1beta1.MissionControlCluster {
		return v1beta1.MissionControlCluster{ObjectMeta: metav1.ObjectMeta{Name: "x", Namespace: ns}}
	}
	for _, tc := range []struct {
		mccs []v1beta1.MissionControlCluster
		want string
	}{
		{nil, "default"},
		{[]v1beta1.MissionControlCluster{mcc("shop"), mcc("db"), mcc("shop")}, "db,default,shop"},
		{[]v1beta1.MissionControlCluster{mcc("mission-control"), mcc("default")}, "default"},
	} {
		if got := k8ssandraNamespaces(tc.mccs); got != tc.want {
			t.Errorf("k8ssandraNamespaces(%v) = %q, want %q", tc.mccs, got, tc.want)
		}
	}
}
