package k0s

import (
	"encoding/base64"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/yaml"

	"github.com/datastax/mission-control/runtime/k0s/jointest"
)

// TestParseJoinToken: a k0s token gives its role, address, CA and bootstrap token; anything else
// is refused, naming the command that makes a good one.
func TestParseJoinToken(t *testing.T) {
	worker, caPEM := jointest.Token(t, "kubelet-bootstrap", "https://192.0.2.2:6443")
	got, err := ParseJoinToken(" " + worker + "\n")
	if err != nil {
		t.Fatal(err)
	}
	if got.Role != RoleWorker || got.Server != "https://192.0.2.2:6443" || string(got.CA) != string(caPEM) || got.TokenID() != "abcdef" || got.Encoded != worker {
		t.Errorf("parsed %+v", got)
	}
	pin, err := got.CAPin()
	if err != nil || !strings.HasPrefix(pin, "sha256:") || len(pin) != len("sha256:")+64 {
		t.Errorf("CA pin %q, %v", pin, err)
	}
	controller, _ := jointest.Token(t, "controller-bootstrap", "https://192.0.2.2:9443")
	if got, err := ParseJoinToken(controller); err != nil || got.Role != RoleController {
		t.Errorf("controller token: %+v, %v", got, err)
	}
	stranger, _ := jointest.Token(t, "someone", "https://192.0.2.2:6443")
	for name, bad := range map[string]string{
		"not base64":   "not a token!",
		"not gzip":     base64.StdEncoding.EncodeToString([]byte("plain")),
		"unknown user": stranger,
		"empty":        "",
	} {
		_, err := ParseJoinToken(bad)
		if err == nil || !strings.Contains(err.Error(), "node join-command --role worker") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestJoinManifest: the facts in their ConfigMap, readable (and the nodes listable) by bootstrap
// tokens, and nothing more; DaemonSets readable by nodes, for a worker's own drain.
func TestJoinManifest(t *testing.T) {
	facts := JoinFacts{LicenseID: "L-1", Mode: "control-plane", PodCIDR: "10.0.0.0/17", ServiceCIDR: "10.0.128.0/17", Version: "v1"}
	b, err := JoinManifest(facts)
	if err != nil {
		t.Fatal(err)
	}
	docs := strings.Split(string(b), "\n---\n")
	if len(docs) != 8 { // the header, then 7 objects
		t.Fatalf("%d documents:\n%s", len(docs), b)
	}
	kinds := map[string][]rbacv1.PolicyRule{}
	for _, doc := range docs[1:] {
		var obj struct {
			Kind     string
			Metadata struct{ Name, Namespace string }
			Data     map[string]string
			Rules    []rbacv1.PolicyRule
			Subjects []rbacv1.Subject
		}
		if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
			t.Fatal(err)
		}
		switch obj.Kind {
		case "ConfigMap":
			if got, err := JoinFactsFrom(obj.Data); err != nil || got != facts || obj.Metadata.Namespace != "kube-system" {
				t.Errorf("ConfigMap facts %+v, %v", got, err)
			}
		case "Role", "ClusterRole":
			kinds[obj.Metadata.Name] = append(kinds[obj.Metadata.Name], obj.Rules...)
		case "RoleBinding", "ClusterRoleBinding":
			want := "system:bootstrappers"
			if obj.Metadata.Name == "mission-control:leave" {
				want = "system:nodes"
			}
			if len(obj.Subjects) != 1 || obj.Subjects[0].Name != want {
				t.Errorf("%s %s binds %+v", obj.Kind, obj.Metadata.Name, obj.Subjects)
			}
		}
	}
	for name, rules := range kinds {
		for _, r := range rules {
			for _, v := range r.Verbs {
				if v != "get" && v != "list" {
					t.Errorf("%s may %s %v", name, v, r.Resources)
				}
			}
		}
	}
	if _, err := JoinFactsFrom(map[string]string{"licenseID": "L-1"}); err == nil {
		t.Error("incomplete facts were accepted")
	}
	// An air-gapped cluster's bundle travels with its facts; an online one has no such key.
	if _, ok := facts.Data()["bundle"]; ok {
		t.Error("an online cluster's facts name a bundle")
	}
	facts.Bundle = "v1 built 2026-12-07T00:00:00Z, sha256:0123456789ab"
	if got, err := JoinFactsFrom(facts.Data()); err != nil || got != facts {
		t.Errorf("round trip %+v, %v", got, err)
	}
}
