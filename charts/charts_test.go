package charts

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/datastax/mission-control/internal/contract"
	"github.com/datastax/mission-control/internal/localvolume"
	"github.com/datastax/mission-control/runtime/k0s"
)

var testValues = Values{
	Images: Images{
		CassOperator:           "localhost/mission-control/cass-operator:v1",
		K8ssandraOperator:      "localhost/mission-control/k8ssandra-operator:v2",
		MissionControlOperator: "localhost/mission-control/mission-control-operator:sha-3",
		LocalPathProvisioner:   "localhost/mission-control/local-path-provisioner:v0.0.30",
		VolumeHelper:           "localhost/mission-control/volume-helper:sha-4",
	},
	Storage:      Storage{Path: "/data/mc/storage", DefaultClass: "fast-local"},
	Webhook:      WebhookTLS{CABundle: []byte("-----CA-----"), Cert: []byte("-----CERT-----"), Key: []byte("-----KEY-----")},
	LocalContext: "CP_EAST",
}

func render(t *testing.T, mode string) []*unstructured.Unstructured {
	t.Helper()
	ch, err := Load("v9.9.9")
	if err != nil {
		t.Fatal(err)
	}
	v := testValues
	v.Mode = mode
	objs, err := Render(ch, "mc-prod", k0s.KubernetesVersion, v)
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

func find(objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	for _, o := range objs {
		if o.GetKind() == kind && o.GetName() == name {
			return o
		}
	}
	return nil
}

func container(t *testing.T, d *unstructured.Unstructured) map[string]any {
	t.Helper()
	cs, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
	if len(cs) != 1 {
		t.Fatalf("%s has %d containers", d.GetName(), len(cs))
	}
	return cs[0].(map[string]any)
}

func env(c map[string]any, name string) (string, bool) {
	list, _ := c["env"].([]any)
	for _, e := range list {
		if m := e.(map[string]any); m["name"] == name {
			v, _ := m["value"].(string)
			return v, true
		}
	}
	return "", false
}

// watchNamespaceRef is the ConfigMap and key WATCH_NAMESPACE comes from, as "name/key".
func watchNamespaceRef(c map[string]any) string {
	list, _ := c["env"].([]any)
	for _, e := range list {
		if m := e.(map[string]any); m["name"] == "WATCH_NAMESPACE" {
			ref, _, _ := unstructured.NestedStringMap(m, "valueFrom", "configMapKeyRef")
			return ref["name"] + "/" + ref["key"]
		}
	}
	return ""
}

func webhookNames(o *unstructured.Unstructured) []string {
	var names []string
	hooks, _, _ := unstructured.NestedSlice(o.Object, "webhooks")
	for _, h := range hooks {
		names = append(names, h.(map[string]any)["name"].(string))
	}
	return names
}

func TestControlPlane(t *testing.T) {
	objs := render(t, "control-plane")
	for _, d := range []struct{ name, image string }{
		{"cass-operator", testValues.Images.CassOperator},
		{"k8ssandra-operator", testValues.Images.K8ssandraOperator},
		{"mission-control-operator", testValues.Images.MissionControlOperator},
	} {
		dep := find(objs, "Deployment", d.name)
		if dep == nil {
			t.Fatalf("no Deployment %s", d.name)
		}
		if dep.GetNamespace() != Namespace {
			t.Errorf("%s in namespace %q", d.name, dep.GetNamespace())
		}
		c := container(t, dep)
		if c["image"] != d.image || c["imagePullPolicy"] != "Never" {
			t.Errorf("%s: image %v, pull policy %v", d.name, c["image"], c["imagePullPolicy"])
		}
		if nonRoot, _, _ := unstructured.NestedBool(dep.Object, "spec", "template", "spec", "securityContext", "runAsNonRoot"); !nonRoot {
			t.Errorf("%s may run as root", d.name)
		}
		if sa, _, _ := unstructured.NestedString(dep.Object, "spec", "template", "spec", "serviceAccountName"); find(objs, "ServiceAccount", sa) == nil {
			t.Errorf("%s runs as missing ServiceAccount %q", d.name, sa)
		}
		if find(objs, "ClusterRole", "mc-prod-"+d.name) == nil || find(objs, "ClusterRoleBinding", "mc-prod-"+d.name) == nil {
			t.Errorf("%s has no cluster role or binding", d.name)
		}
		if find(objs, "Service", d.name+"-webhook") == nil {
			t.Errorf("%s has no webhook Service", d.name)
		}
	}
	if v, _ := env(container(t, find(objs, "Deployment", "k8ssandra-operator")), "K8SSANDRA_CONTROL_PLANE"); v != "true" {
		t.Errorf("K8SSANDRA_CONTROL_PLANE = %q on a control plane", v)
	}
	// On a control plane k8ssandra-operator watches the namespaces the mission-control-operator
	// names, never the registrations' (see operators/missioncontrol/k8ssandrawatch.go).
	if ref := watchNamespaceRef(container(t, find(objs, "Deployment", "k8ssandra-operator"))); ref != "k8ssandra-operator-watch/namespaces" {
		t.Errorf("WATCH_NAMESPACE on a control plane comes from %q, want the ConfigMap k8ssandra-operator-watch", ref)
	}
	if args := container(t, find(objs, "Deployment", "mission-control-operator"))["args"].([]any); !slices.Contains(args, any("--local-context=CP_EAST")) {
		t.Errorf("the mission-control-operator does not know its own context: %v", args)
	}
	if args := container(t, find(objs, "Deployment", "cass-operator"))["args"].([]any); !slices.Contains(args, any("--webhook-cert-path=/tmp/k8s-webhook-server/serving-certs")) {
		t.Errorf("cass-operator args %v do not turn its webhooks on", args)
	}
	if names := webhookNames(find(objs, "ValidatingWebhookConfiguration", "mc-prod-k8ssandra-operator")); !slices.Contains(names, "vk8ssandracluster.kb.io") {
		t.Errorf("k8ssandra-operator validating webhooks %v lack K8ssandraCluster", names)
	}
	cass := find(objs, "ValidatingWebhookConfiguration", "mc-prod-cass-operator")
	hooks, _, _ := unstructured.NestedSlice(cass.Object, "webhooks")
	cc := hooks[0].(map[string]any)["clientConfig"].(map[string]any)
	if ca, _ := base64.StdEncoding.DecodeString(cc["caBundle"].(string)); string(ca) != "-----CA-----" {
		t.Errorf("caBundle = %q", ca)
	}
	if svc := cc["service"].(map[string]any); svc["name"] != "cass-operator-webhook" || svc["namespace"] != Namespace || hooks[0].(map[string]any)["failurePolicy"] != "Fail" {
		t.Errorf("cass-operator webhook client = %v", cc)
	}
	secret := find(objs, "Secret", "mc-prod-webhook-tls")
	if crt, _, _ := unstructured.NestedString(secret.Object, "data", "tls.crt"); crt != base64.StdEncoding.EncodeToString(testValues.Webhook.Cert) {
		t.Errorf("webhook secret tls.crt = %q", crt)
	}
	cm := find(objs, "ConfigMap", "mc-prod-image-config")
	if cm.GetLabels()["k8ssandra.io/config"] != "image" {
		t.Error("the image ConfigMap lacks the label the operators find it by")
	}
	if cfg, _, _ := unstructured.NestedString(cm.Object, "data", "image_config.yaml"); !strings.Contains(cfg, "kind: ImageConfig") || !strings.Contains(cfg, "cass-management-api") {
		t.Errorf("image config:\n%s", cfg)
	}
}

// The chart runs exactly the operators the platform's contract names for each mode.
func TestOperatorsPerMode(t *testing.T) {
	for mode, want := range map[string][]string{"control-plane": contract.Deployments(true), "data-plane": contract.Deployments(false)} {
		var got []string
		for _, o := range render(t, mode) {
			if o.GetKind() == "Deployment" {
				got = append(got, o.GetName())
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, slices.Sorted(slices.Values(want))) {
			t.Errorf("%s: Deployments %v, want %v", mode, got, want)
		}
	}
}

func TestDataPlane(t *testing.T) {
	objs := render(t, "data-plane")
	if find(objs, "Deployment", "mission-control-operator") != nil || find(objs, "ClusterRole", "mc-prod-mission-control-operator") != nil {
		t.Error("a data plane runs the mission-control-operator")
	}
	for _, name := range []string{"cass-operator", "k8ssandra-operator"} {
		if find(objs, "Deployment", name) == nil {
			t.Errorf("no Deployment %s", name)
		}
	}
	// The mission-control-operator writes each cluster a K8ssandraCluster of its own datacenters:
	// a data plane's k8ssandra-operator must reconcile it, as k8ssandra's "control plane".
	if v, _ := env(container(t, find(objs, "Deployment", "k8ssandra-operator")), "K8SSANDRA_CONTROL_PLANE"); v != "true" {
		t.Errorf("K8SSANDRA_CONTROL_PLANE = %q on a data plane", v)
	}
	if v, ok := env(container(t, find(objs, "Deployment", "k8ssandra-operator")), "WATCH_NAMESPACE"); !ok || v != "" {
		t.Errorf("WATCH_NAMESPACE = %q (set: %v) on a data plane, want every namespace", v, ok)
	}
	if names := webhookNames(find(objs, "ValidatingWebhookConfiguration", "mc-prod-k8ssandra-operator")); !slices.Contains(names, "vk8ssandracluster.kb.io") {
		t.Error("a data plane lacks the K8ssandraCluster webhook")
	}
	rules, _, _ := unstructured.NestedSlice(find(objs, "ClusterRole", "mc-prod-k8ssandra-operator").Object, "rules")
	found := false
	for _, r := range rules {
		found = found || slices.Contains(r.(map[string]any)["resources"].([]any), any("k8ssandraclusters"))
	}
	if !found {
		t.Error("a data plane's k8ssandra-operator may not reconcile K8ssandraClusters")
	}
}

func TestRenderNeedsTheWebhookCertificate(t *testing.T) {
	ch, err := Load("dev")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Render(ch, "mc", k0s.KubernetesVersion, Values{Mode: "control-plane"}); err == nil || !strings.Contains(err.Error(), "webhook.tlsCert is required") {
		t.Errorf("render without a certificate: %v", err)
	}
}

func TestCRDs(t *testing.T) {
	crds, err := CRDs()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range crds {
		if c.GetKind() != "CustomResourceDefinition" || c.GetAPIVersion() != "apiextensions.k8s.io/v1" {
			t.Errorf("%s is a %s %s", c.GetName(), c.GetAPIVersion(), c.GetKind())
		}
		names = append(names, c.GetName())
	}
	for _, want := range []string{
		"missioncontrolclusters.missioncontrol.datastax.com", "k8ssandraclusters.k8ssandra.io", "clientconfigs.config.k8ssandra.io",
		"cassandradatacenters.cassandra.datastax.com", "cassandratasks.control.k8ssandra.io", "reapers.reaper.k8ssandra.io",
		"stargates.stargate.k8ssandra.io", "medusabackupschedules.medusa.k8ssandra.io", "replicatedsecrets.replication.k8ssandra.io",
	} {
		if !slices.Contains(names, want) {
			t.Errorf("no CRD %s among %v", want, names)
		}
	}
	mcc := crds[slices.Index(names, "missioncontrolclusters.missioncontrol.datastax.com")]
	if kind, _, _ := unstructured.NestedString(mcc.Object, "spec", "names", "kind"); kind != "MissionControlCluster" {
		t.Errorf("MissionControlCluster CRD kind %q", kind)
	}
}

// TestAirgapNeverPulls: installed from a bundle, the database images the operators run are
// never pulled; otherwise they are pulled when missing.
func TestAirgapNeverPulls(t *testing.T) {
	ch, err := Load("v9.9.9")
	if err != nil {
		t.Fatal(err)
	}
	for airgap, want := range map[bool]string{true: "pullPolicy: Never", false: "pullPolicy: IfNotPresent"} {
		v := testValues
		v.Mode, v.Airgap = "data-plane", airgap
		objs, err := Render(ch, "mc-prod", k0s.KubernetesVersion, v)
		if err != nil {
			t.Fatal(err)
		}
		cfg, _, _ := unstructured.NestedString(find(objs, "ConfigMap", "mc-prod-image-config").Object, "data", "image_config.yaml")
		if !strings.Contains(cfg, want) || !strings.Contains(cfg, "registry: docker.io") || !strings.Contains(cfg, "cass-management-api") {
			t.Errorf("airgap %v: image config:\n%s", airgap, cfg)
		}
	}
}

// Both modes get the provisioner and two StorageClasses: the default one, named by install, and
// standard (the docs' manifests name it); volumes under the data dir, made where the pod lands,
// deleted with their claim, never grown.
func TestStorageClasses(t *testing.T) {
	for _, mode := range []string{"control-plane", "data-plane"} {
		objs := render(t, mode)
		var classes []string
		for _, o := range objs {
			if o.GetKind() != "StorageClass" {
				continue
			}
			classes = append(classes, o.GetName())
			wantDefault := fmt.Sprint(o.GetName() == "fast-local")
			if got := o.GetAnnotations()["storageclass.kubernetes.io/is-default-class"]; got != wantDefault {
				t.Errorf("%s: class %s is-default-class %q, want %s", mode, o.GetName(), got, wantDefault)
			}
			for field, want := range map[string]any{"provisioner": contract.VolumeProvisioner, "volumeBindingMode": "WaitForFirstConsumer",
				"reclaimPolicy": "Delete", "allowVolumeExpansion": false} {
				if got := o.Object[field]; got != want {
					t.Errorf("%s: class %s %s = %v, want %v", mode, o.GetName(), field, got, want)
				}
			}
			if got, _, _ := unstructured.NestedString(o.Object, "parameters", "pathPattern"); got != localvolume.PathPattern {
				t.Errorf("%s: class %s pathPattern %q, want %q", mode, o.GetName(), got, localvolume.PathPattern)
			}
		}
		slices.Sort(classes)
		if !slices.Equal(classes, []string{"fast-local", StandardClass}) {
			t.Errorf("%s: StorageClasses %v", mode, classes)
		}
		d := find(objs, "Deployment", contract.LocalPathProvisioner)
		if c := container(t, d); c["image"] != testValues.Images.LocalPathProvisioner || c["imagePullPolicy"] != "Never" {
			t.Errorf("%s: provisioner container %v", mode, c)
		}
		cm := find(objs, "ConfigMap", contract.LocalPathProvisioner+"-config")
		config, _, _ := unstructured.NestedString(cm.Object, "data", "config.json")
		helper, _, _ := unstructured.NestedString(cm.Object, "data", "helperPod.yaml")
		var cfg struct {
			NodePathMap []struct {
				Node  string   `json:"node"`
				Paths []string `json:"paths"`
			} `json:"nodePathMap"`
			SetupCommand, TeardownCommand string
		}
		if err := json.Unmarshal([]byte(config), &cfg); err != nil {
			t.Fatalf("%s: config.json: %v\n%s", mode, err, config)
		}
		if len(cfg.NodePathMap) != 1 || !slices.Equal(cfg.NodePathMap[0].Paths, []string{"/data/mc/storage"}) ||
			cfg.SetupCommand != "/volume-helper" || cfg.TeardownCommand != "/volume-helper" {
			t.Errorf("%s: config.json:\n%s", mode, config)
		}
		if !strings.Contains(helper, "image: "+testValues.Images.VolumeHelper) || !strings.Contains(helper, "fieldPath: spec.nodeName") {
			t.Errorf("%s: helper pod:\n%s", mode, helper)
		}
	}
}

// A default class named standard is the one class.
func TestStorageDefaultClassStandard(t *testing.T) {
	ch, err := Load("v9.9.9")
	if err != nil {
		t.Fatal(err)
	}
	v := testValues
	v.Mode, v.Storage.DefaultClass = "data-plane", StandardClass
	objs, err := Render(ch, "mc", k0s.KubernetesVersion, v)
	if err != nil {
		t.Fatal(err)
	}
	var classes []string
	for _, o := range objs {
		if o.GetKind() == "StorageClass" {
			classes = append(classes, o.GetName()+"="+o.GetAnnotations()["storageclass.kubernetes.io/is-default-class"])
		}
	}
	if !slices.Equal(classes, []string{"standard=true"}) {
		t.Errorf("StorageClasses %v, want standard alone, the default", classes)
	}
}
