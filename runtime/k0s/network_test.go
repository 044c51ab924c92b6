package k0s

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/netip"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	k8syaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/datastax/mission-control/internal/contract"
	"github.com/datastax/mission-control/internal/datadir"
)

// TestCNIConfig: kube-router's shape, a bridge it makes (under its one name) with host-local
// addresses and no range yet: kube-router adds its node's.
func TestCNIConfig(t *testing.T) {
	b, err := CNIConfig(datadir.Layout{DataDir: "/data"})
	if err != nil {
		t.Fatal(err)
	}
	var conf struct {
		Plugins []struct {
			Type, Bridge     string
			IPMasq           bool `json:"ipMasq"`
			IsDefaultGateway bool `json:"isDefaultGateway"`
			IPAM             struct {
				Type    string
				Ranges  [][]struct{ Subnet string }
				DataDir string `json:"dataDir"`
			}
		}
	}
	if err := json.Unmarshal(b, &conf); err != nil {
		t.Fatal(err)
	}
	p := conf.Plugins[0]
	if p.Type != "bridge" || p.Bridge != "kube-bridge" || p.IPMasq || !p.IsDefaultGateway || p.IPAM.Type != "host-local" || len(p.IPAM.Ranges) != 0 || p.IPAM.DataDir != "/data/cni/ipam" {
		t.Errorf("bridge plugin = %+v", p)
	}
	if conf.Plugins[1].Type != "portmap" {
		t.Errorf("second plugin = %+v", conf.Plugins[1])
	}
}

// TestNetworkManifest: every document parses; kube-router runs on every node from the payload's
// image, never pulled, completing the CNI configuration install wrote, with the service proxy
// left to kube-proxy.
func TestNetworkManifest(t *testing.T) {
	l := datadir.Layout{DataDir: "/data"}
	n := Network{KubeRouterImage: "localhost/mission-control/kube-router:v2.1.0", PeeringImage: "localhost/mission-control/pod-network-peering:sha-1",
		PodCIDR: netip.MustParsePrefix("10.0.0.0/17"), ServiceCIDR: netip.MustParsePrefix("10.0.128.0/17")}
	for what, broken := range map[string]Network{
		"kube-router's image": {PeeringImage: n.PeeringImage, PodCIDR: n.PodCIDR, ServiceCIDR: n.ServiceCIDR},
		"the peering image":   {KubeRouterImage: n.KubeRouterImage, PodCIDR: n.PodCIDR, ServiceCIDR: n.ServiceCIDR},
		"the service range":   {KubeRouterImage: n.KubeRouterImage, PeeringImage: n.PeeringImage, PodCIDR: n.PodCIDR},
		"the pod range":       {KubeRouterImage: n.KubeRouterImage, PeeringImage: n.PeeringImage, ServiceCIDR: n.ServiceCIDR},
	} {
		if _, err := NetworkManifest(l, broken); err == nil {
			t.Errorf("a manifest without %s was made", what)
		}
	}
	b, err := NetworkManifest(l, n)
	if err != nil {
		t.Fatal(err)
	}
	var ds, peering *appsv1.DaemonSet
	kinds := map[string]bool{}
	r := k8syaml.NewYAMLReader(bufioReader(b))
	for {
		doc, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		var meta struct{ Kind string }
		if err := yaml.UnmarshalStrict(doc, &meta); err != nil && !strings.Contains(err.Error(), "unknown field") {
			t.Fatal(err)
		}
		kinds[meta.Kind] = true
		if meta.Kind == "DaemonSet" {
			d := &appsv1.DaemonSet{}
			if err := yaml.UnmarshalStrict(doc, d); err != nil {
				t.Fatalf("the DaemonSet: %v", err)
			}
			if d.Name == PeeringDaemonSet {
				peering = d
			} else {
				ds = d
			}
		}
	}
	for _, k := range []string{"ServiceAccount", "ClusterRole", "ClusterRoleBinding", "DaemonSet"} {
		if !kinds[k] {
			t.Errorf("no %s in the manifest", k)
		}
	}
	if ds == nil || peering == nil {
		t.Fatalf("kube-router's DaemonSet %v, the peering agent's %v", ds != nil, peering != nil)
	}
	pc, pv := peering.Spec.Template.Spec.Containers[0], peering.Spec.Template.Spec.Volumes
	if pc.Image != n.PeeringImage || pc.ImagePullPolicy != "Never" || !peering.Spec.Template.Spec.HostNetwork ||
		strings.Join(pc.Args, " ") != "--pod-cidr=10.0.0.0/17 --peers=/etc/mission-control/peers" ||
		pv[0].ConfigMap == nil || pv[0].ConfigMap.Name != contract.Peers || pv[0].ConfigMap.Optional == nil || !*pv[0].ConfigMap.Optional {
		t.Errorf("peering agent: %s %s %v, volumes %+v", pc.Image, pc.ImagePullPolicy, pc.Args, pv)
	}
	c := ds.Spec.Template.Spec.Containers[0]
	args := strings.Join(c.Args, " ")
	if c.Image != "localhost/mission-control/kube-router:v2.1.0" || c.ImagePullPolicy != "Never" || !ds.Spec.Template.Spec.HostNetwork ||
		!strings.Contains(args, "--run-firewall=true") || !strings.Contains(args, "--run-router=true") || !strings.Contains(args, "--run-service-proxy=false") ||
		!strings.Contains(args, "--service-cluster-ip-range=10.0.128.0/17") || !strings.Contains(args, "--routes-sync-period=15s") {
		t.Errorf("kube-router container: %s %s %v, hostNetwork %v", c.Image, c.ImagePullPolicy, c.Args, ds.Spec.Template.Spec.HostNetwork)
	}
	env := map[string]string{}
	for _, e := range c.Env {
		env[e.Name] = e.Value
	}
	if env["KUBE_ROUTER_CNI_CONF_FILE"] != l.CNIConfigFile() {
		t.Errorf("KUBE_ROUTER_CNI_CONF_FILE = %q, want %q", env["KUBE_ROUTER_CNI_CONF_FILE"], l.CNIConfigFile())
	}
	if v := ds.Spec.Template.Spec.Volumes[0]; v.HostPath == nil || v.HostPath.Path != l.CNIConfDir() {
		t.Errorf("first volume = %+v, want the CNI configuration dir", v)
	}
}

func bufioReader(b []byte) *bufio.Reader { return bufio.NewReader(bytes.NewReader(b)) }

// TestSameCNIConfig: the configuration kube-router completed with its node's range is still
// install's; any other difference is not.
func TestSameCNIConfig(t *testing.T) {
	want, err := CNIConfig(datadir.Layout{DataDir: "/data"})
	if err != nil {
		t.Fatal(err)
	}
	completed := bytes.Replace(want, []byte(`"type": "host-local"`), []byte(`"ranges": [[{"subnet": "10.0.0.0/24"}]], "type": "host-local"`), 1)
	// kube-router's own rewrite: the range and the node's MTU.
	rewritten := bytes.Replace(completed, []byte(`"ipMasq": false,`), []byte(`"ipMasq": false, "mtu": 1450,`), 1)
	dropped := bytes.Replace(want, []byte(`"ipMasq": false,`), nil, 1)
	added := bytes.Replace(want, []byte(`"hairpinMode": true`), []byte(`"hairpinMode": true, "promiscMode": true`), 1)
	other := bytes.Replace(want, []byte(`"hairpinMode": true`), []byte(`"hairpinMode": false`), 1)
	if bytes.Equal(completed, want) || bytes.Equal(other, want) || bytes.Equal(rewritten, completed) || bytes.Equal(added, want) || bytes.Equal(dropped, want) {
		t.Fatalf("the test's edits do not apply to %s", want)
	}
	for _, c := range []struct {
		name string
		have []byte
		same bool
	}{
		{"as written", want, true},
		{"completed by kube-router", completed, true},
		{"rewritten by kube-router", rewritten, true},
		{"another setting added", added, false},
		{"a setting dropped", dropped, false},
		{"changed otherwise", other, false},
		{"not JSON", []byte("{"), false},
		{"empty", nil, false},
	} {
		if got := SameCNIConfig(c.have, want); got != c.same {
			t.Errorf("%s: SameCNIConfig = %t, want %t", c.name, got, c.same)
		}
	}
}
