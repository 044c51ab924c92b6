package missioncontrol

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/datastax/mission-control/operators/missioncontrol/api/v1beta1"
)

// TestInternodePolicy: the cluster's database pods take internode traffic (7000, 7001) only
// from database pods of the same Cassandra cluster, in any namespace and in the other targets
// (by address); every other port of theirs stays open to anyone.
func TestInternodePolicy(t *testing.T) {
	mcc := &v1beta1.MissionControlCluster{ObjectMeta: metav1.ObjectMeta{Name: "demo", Namespace: "db"}}
	b, err := json.Marshal(internodePolicy(mcc, "demo", []string{"10.8.0.5", "not-an-address", "10.8.1.7"}))
	if err != nil {
		t.Fatal(err)
	}
	var np struct {
		Metadata struct {
			Name, Namespace string
			Labels          map[string]string
		}
		Spec struct {
			PodSelector struct{ MatchLabels map[string]string } `json:"podSelector"`
			PolicyTypes []string                                `json:"policyTypes"`
			Ingress     []struct {
				From []struct {
					NamespaceSelector *struct{} `json:"namespaceSelector"`
					PodSelector       *struct {
						MatchLabels map[string]string `json:"matchLabels"`
					} `json:"podSelector"`
					IPBlock *struct{ CIDR string } `json:"ipBlock"`
				}
				Ports []struct {
					Protocol string
					Port     int
					EndPort  int `json:"endPort"`
				}
			}
		}
	}
	if err := json.Unmarshal(b, &np); err != nil {
		t.Fatal(err)
	}
	if np.Metadata.Name != "demo-internode" || np.Metadata.Namespace != "db" || np.Metadata.Labels[labelCluster] != "demo" {
		t.Errorf("metadata = %+v", np.Metadata)
	}
	if np.Spec.PodSelector.MatchLabels[labelCassCluster] != "demo" || strings.Join(np.Spec.PolicyTypes, ",") != "Ingress" || len(np.Spec.Ingress) != 2 {
		t.Fatalf("spec = %s", b)
	}
	internode, open := np.Spec.Ingress[0], np.Spec.Ingress[1]
	if len(internode.From) != 3 || internode.From[0].NamespaceSelector == nil || internode.From[0].PodSelector == nil ||
		internode.From[0].PodSelector.MatchLabels[labelCassCluster] != "demo" {
		t.Fatalf("internode peers = %s", b)
	}
	for i, want := range []string{"10.8.0.5/32", "10.8.1.7/32"} {
		if from := internode.From[i+1]; from.IPBlock == nil || from.IPBlock.CIDR != want || from.PodSelector != nil || from.NamespaceSelector != nil {
			t.Errorf("remote peer %d = %s, want only ipBlock %s", i, b, want)
		}
	}
	var ports, ranges []string
	for _, p := range internode.Ports {
		ports = append(ports, p.Protocol+":"+strconv.Itoa(p.Port))
	}
	for _, p := range open.Ports {
		ranges = append(ranges, p.Protocol+":"+strconv.Itoa(p.Port)+"-"+strconv.Itoa(p.EndPort))
	}
	if strings.Join(ports, ",") != "TCP:7000,TCP:7001" || len(open.From) != 0 || strings.Join(ranges, ",") != "TCP:1-6999,TCP:7002-65535,UDP:1-65535" {
		t.Errorf("internode ports %v, open to anyone %v", ports, ranges)
	}
}
