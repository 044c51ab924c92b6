package k0s

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestBuildModulesMatchVersions: the modules under hack/runtime pin the same versions as
// versions.env, the one place they are set.
func TestBuildModulesMatchVersions(t *testing.T) {
	k8sStaging := "v0." + strings.TrimPrefix(Versions["KUBERNETES_VERSION"], "v1.")
	checks := []struct {
		gomod string
		want  []string
	}{
		{"../../hack/runtime/k8s/go.mod", []string{"k8s.io/kubernetes " + Versions["KUBERNETES_VERSION"], "k8s.io/kubelet => k8s.io/kubelet " + k8sStaging}},
		{"../../hack/runtime/k0s/go.mod", []string{"github.com/k0sproject/k0s " + Versions["K0S_VERSION"], "k8s.io/kubernetes => k8s.io/kubernetes " + Versions["KUBERNETES_VERSION"], "k8s.io/kubelet => k8s.io/kubelet " + k8sStaging}},
		{"../../hack/runtime/etcd/go.mod", []string{"go.etcd.io/etcd/server/v3 " + Versions["ETCD_VERSION"]}},
		{"../../hack/runtime/coredns/go.mod", []string{"github.com/coredns/coredns " + Versions["COREDNS_VERSION"]}},
		{"../../hack/operators/cass/go.mod", []string{"github.com/k8ssandra/cass-operator " + Versions["CASS_OPERATOR_VERSION"]}},
		{"../../hack/operators/k8ssandra/go.mod", []string{"github.com/k8ssandra/k8ssandra-operator " + Versions["K8SSANDRA_OPERATOR_VERSION"],
			"github.com/k8ssandra/cass-operator => github.com/k8ssandra/cass-operator " + Versions["CASS_OPERATOR_VERSION"]}},
		{"../../hack/storage/go.mod", []string{"github.com/rancher/local-path-provisioner " + Versions["LOCAL_PATH_PROVISIONER_VERSION"]}},
		{"../../hack/network/go.mod", []string{"github.com/cloudnativelabs/kube-router/v2 " + Versions["KUBE_ROUTER_VERSION"]}},
	}
	for _, c := range checks {
		data, err := os.ReadFile(c.gomod)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range c.want {
			if !strings.Contains(string(data), want) {
				t.Errorf("%s does not pin %s (versions.env)", c.gomod, want)
			}
		}
		if strings.Contains(c.gomod, "/operators/") || strings.Contains(c.gomod, "/storage/") || strings.Contains(c.gomod, "/network/") {
			continue // the operators, the provisioner and the pod network keep the Kubernetes modules they were released with
		}
		// Every staging module is re-pinned to the same patch.
		for _, m := range regexp.MustCompile(`k8s\.io/[a-z-]+ => k8s\.io/[a-z-]+ (v0\.\d+\.\d+)`).FindAllStringSubmatch(string(data), -1) {
			if m[1] != k8sStaging {
				t.Errorf("%s: %s, want %s", c.gomod, m[0], k8sStaging)
			}
		}
	}
	for _, key := range []string{"K0S_VERSION", "K0S_RELEASE", "KUBERNETES_VERSION", "ETCD_VERSION", "COREDNS_VERSION", "PAUSE_VERSION",
		"K8SSANDRA_OPERATOR_VERSION", "CASS_OPERATOR_VERSION", "LOCAL_PATH_PROVISIONER_VERSION", "KUBE_ROUTER_VERSION", "RUNTIME_BUILD_REVISION"} {
		if Versions[key] == "" {
			t.Errorf("versions.env lacks %s", key)
		}
	}
}
