package missioncontrol

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/datastax/mission-control/internal/contract"
	"github.com/datastax/mission-control/operators/missioncontrol/api/v1beta1"
)

func TestPlanTargetsGroupsByNormalizedContext(t *testing.T) {
	dcs := []v1beta1.DatacenterTemplate{{K8sContext: ""}, {K8sContext: "DP_WEST"}, {K8sContext: "CP_EAST"}, {K8sContext: "dp-west"}, {K8sContext: "DP_SOUTH"}}
	planes := map[string]*DataPlane{"dp-west": {Name: "dp-west", Context: "DP_WEST", registration: contract.Registration{Namespaces: []string{"db"}}}}
	targets := planTargets(dcs, "db", "cp-east", nil, planes)
	var got []string
	for _, tg := range targets {
		got = append(got, fmt.Sprintf("%s:%v", tg.name(), tg.Datacenters))
	}
	if want := "local:[0 2] DP_WEST:[1 3] DP_SOUTH:[4]"; strings.Join(got, " ") != want {
		t.Errorf("targets %v, want %s", got, want)
	}
	if targets[2].Err == nil || targets[1].Err != nil {
		t.Errorf("errors: %v / %v", targets[1].Err, targets[2].Err)
	}
}

func TestPlanTargetsRefusesANamespaceTheRegistrationDoesNotCover(t *testing.T) {
	dcs := []v1beta1.DatacenterTemplate{{K8sContext: "DP_WEST"}}
	planes := map[string]*DataPlane{"dp-west": {Name: "dp-west", Context: "DP_WEST", registration: contract.Registration{Namespaces: []string{"db"}}}}
	targets := planTargets(dcs, "shop", "cp-east", nil, planes)
	want := "no data plane is registered for namespace shop in k8sContext DP_WEST (it covers db): run mcctl register --source-context DP_WEST --dest-context <this control plane> --database-namespaces db,shop"
	if err := targets[0].Err; err == nil || err.Error() != want || !errors.Is(err, errNotRegistered) {
		t.Errorf("error %v, want %q", err, want)
	}
}

func TestCertPolicyRefusesWhatCannotBeIssued(t *testing.T) {
	hour := func(h int) *metav1.Duration { return &metav1.Duration{Duration: time.Duration(h) * time.Hour} }
	spec := func(createIssuer bool, tmpl *v1beta1.CertTemplate) v1beta1.MissionControlClusterSpec {
		return v1beta1.MissionControlClusterSpec{CreateIssuer: createIssuer, Encryption: &v1beta1.EncryptionSpec{
			InternodeEncryption: &v1beta1.InternodeEncryption{Enabled: true, Certs: &v1beta1.CertsSpec{CreateCerts: true, CertTemplate: tmpl}}}}
	}
	if _, err := certPolicyOf(spec(false, nil)); err == nil || !strings.Contains(err.Error(), "set createIssuer: true or certs.issuerRef") {
		t.Errorf("createCerts without an issuer: %v", err)
	}
	if _, err := certPolicyOf(spec(true, &v1beta1.CertTemplate{Duration: hour(10), RenewBefore: hour(20)})); err == nil {
		t.Error("renewBefore longer than duration accepted")
	}
	p, err := certPolicyOf(spec(true, &v1beta1.CertTemplate{Duration: hour(90)}))
	if err != nil || !p.Issue || p.Duration != 90*time.Hour || p.RenewBefore != 30*time.Hour {
		t.Errorf("policy %+v, %v", p, err)
	}
	if p, _ := certPolicyOf(v1beta1.MissionControlClusterSpec{}); p.Issue {
		t.Error("issues certificates without encryption")
	}
}
