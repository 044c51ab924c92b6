package missioncontrol

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	certutil "k8s.io/client-go/util/cert"
	"k8s.io/client-go/util/retry"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/yaml"
	"software.sslmate.com/src/go-pkcs12"

	"github.com/datastax/mission-control/charts"
	"github.com/datastax/mission-control/internal/contract"
	"github.com/datastax/mission-control/internal/pki"
	"github.com/datastax/mission-control/operators/missioncontrol/api/v1beta1"
	"github.com/datastax/mission-control/runtime/apiservertest"
	"github.com/datastax/mission-control/runtime/k0s"
)

const crdDir = "../../charts/mission-control/crds"

// docsManifest is the product docs' example, applied unchanged.
var docsManifest = func() string {
	data, err := os.ReadFile("../../examples/missioncontrolcluster.yaml")
	if err != nil {
		panic(err)
	}
	return string(data)
}()

// twoPlanes is a control plane (CP_EAST) and a data plane (DP_WEST) registered with it, the
// data plane behind a proxy the test can take down, and the operator running against both.
type twoPlanes struct {
	cp, dp client.Client
	proxy  *proxy
	clock  *clock
	// dpConfig reaches the data plane directly with the rights a registration grants (see
	// dataPlaneConfig), to write registrations with.
	dpConfig *rest.Config
	// covered are the data plane's namespaces the registrations cover (see cover).
	covered []string
}

var skipNameValidation = true

// testTimings make the operator look again quickly, so the test need not wait.
var testTimings = Options{Workers: 4, DataPlaneTimeout: 2 * time.Second, PendingResync: 300 * time.Millisecond, ReadyResync: 300 * time.Millisecond, DeletionTimeout: 3 * time.Second}

func startTwoPlanes(t testing.TB, timings Options) *twoPlanes {
	t.Helper()
	ctrl.SetLogger(logr.Discard()) // the test checks outcomes; the operator's logs would drown them
	servers := apiservertest.StartN(t, 2, crdDir)
	cpServer, dpServer := servers[0], servers[1]
	scheme, err := Scheme()
	if err == nil {
		err = apiextensionsv1.AddToScheme(scheme) // the test installs a CRD of its own
	}
	if err != nil {
		t.Fatal(err)
	}
	p := &twoPlanes{clock: &clock{}}
	if p.cp, err = client.New(cpServer.Config, client.Options{Scheme: scheme}); err != nil {
		t.Fatal(err)
	}
	if p.dp, err = client.New(dpServer.Config, client.Options{Scheme: scheme}); err != nil {
		t.Fatal(err)
	}
	p.dpConfig = dataPlaneConfig(t, dpServer, p.dp)
	p.cover(t, "shop")
	dpURL, err := url.Parse(dpServer.Config.Host)
	if err != nil {
		t.Fatal(err)
	}
	p.proxy = startProxy(t, dpURL.Host)
	p.register(t, "dp-west", "DP_WEST", p.dpConfig, "https://"+p.proxy.addr)

	// The operator runs with exactly the rights the chart grants it.
	mgr, err := ctrl.NewManager(operatorConfig(t, cpServer, p.cp), ctrl.Options{Scheme: scheme, Metrics: metricsserver.Options{BindAddress: "0"},
		Cache: CacheOptions(), Client: ClientOptions(),
		Controller: config.Controller{SkipNameValidation: &skipNameValidation}}) // several runs per test process
	if err != nil {
		t.Fatal(err)
	}
	timings.LocalContext = "CP_EAST"
	r, err := NewReconciler(mgr, timings)
	if err != nil {
		t.Fatal(err)
	}
	r.Now = p.clock.now
	if err := r.SetupWithManager(mgr); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- mgr.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("operator: %v", err)
		}
	})
	return p
}

// operatorConfig is a user of the control plane bound to the mission-control-operator's
// ClusterRole from the embedded chart.
func operatorConfig(t testing.TB, s *apiservertest.Server, admin client.Client) *rest.Config {
	t.Helper()
	ch, err := charts.Load("test")
	if err != nil {
		t.Fatal(err)
	}
	objs, err := charts.Render(ch, "mc", k0s.KubernetesVersion, charts.Values{Mode: "control-plane",
		Webhook: charts.WebhookTLS{CABundle: []byte("ca"), Cert: []byte("cert"), Key: []byte("key")}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// Its Role in its own namespace: k8ssandra-operator's namespaces (k8ssandrawatch.go).
	_ = admin.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: contract.Namespace}})
	for _, o := range objs {
		if o.GetKind() == "Role" && o.GetName() == "mission-control-operator-k8ssandra-watch" {
			o.SetNamespace(contract.Namespace)
			binding := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: o.GetName(), Namespace: contract.Namespace},
				RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: o.GetName()},
				Subjects: []rbacv1.Subject{{Kind: "User", APIGroup: "rbac.authorization.k8s.io", Name: "mission-control-operator"}}}
			for _, obj := range []client.Object{o, binding} {
				if err := admin.Create(ctx, obj); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	for _, o := range objs {
		if o.GetKind() == "ClusterRole" && o.GetName() == "mc-mission-control-operator" {
			if err := admin.Create(ctx, o); err != nil {
				t.Fatal(err)
			}
			binding := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "mission-control-operator"},
				RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: o.GetName()},
				Subjects: []rbacv1.Subject{{Kind: "User", APIGroup: "rbac.authorization.k8s.io", Name: "mission-control-operator"}}}
			if err := admin.Create(ctx, binding); err != nil {
				t.Fatal(err)
			}
			return s.UserConfig(t, "mission-control-operator")
		}
	}
	t.Fatal("the chart has no ClusterRole for the mission-control-operator")
	return nil
}

// dataPlaneConfig is a user of the data plane held to the operator's own Secrets, as mcctl
// register holds the control plane's service account; cover grants it DataPlaneRules.
func dataPlaneConfig(t testing.TB, s *apiservertest.Server, admin client.Client) *rest.Config {
	t.Helper()
	policy, binding := contract.DataPlaneSecretPolicy("control-plane", "control-plane")
	for _, o := range []client.Object{policy, binding} {
		if err := admin.Create(context.Background(), o); err != nil {
			t.Fatal(err)
		}
	}
	return s.UserConfig(t, "control-plane")
}

// cover grants the data plane's user DataPlaneRules in namespaces, as mcctl register
// --database-namespaces does, and has the registrations written from now on name them.
func (p *twoPlanes) cover(t testing.TB, namespaces ...string) {
	t.Helper()
	ctx := context.Background()
	for _, ns := range namespaces {
		role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "data-plane", Namespace: ns}, Rules: contract.DataPlaneRules()}
		binding := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "control-plane", Namespace: ns},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: role.Name},
			Subjects: []rbacv1.Subject{{Kind: "User", APIGroup: rbacv1.GroupName, Name: "control-plane"}}}
		for _, o := range []client.Object{&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, role, binding} {
			if err := p.dp.Create(ctx, o); err != nil && !apierrors.IsAlreadyExists(err) {
				t.Fatal(err)
			}
		}
		p.covered = append(p.covered, ns)
	}
}

// register does what mcctl register does: a kubeconfig Secret and a ClientConfig naming it.
func (p *twoPlanes) register(t testing.TB, name, contextName string, cfg *rest.Config, server string) {
	t.Helper()
	kc := clientcmdapi.NewConfig()
	kc.Clusters[contextName] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: cfg.CAData}
	kc.AuthInfos[contextName] = &clientcmdapi.AuthInfo{ClientCertificateData: cfg.CertData, ClientKeyData: cfg.KeyData, Token: cfg.BearerToken}
	kc.Contexts[contextName] = &clientcmdapi.Context{Cluster: contextName, AuthInfo: contextName}
	kc.CurrentContext = contextName
	data, err := clientcmd.Write(*kc)
	if err != nil {
		t.Fatal(err)
	}
	p.registerKubeconfig(t, name, contextName, data)
}

// registerKubeconfig writes a registration of the kubeconfig data.
func (p *twoPlanes) registerKubeconfig(t testing.TB, name, contextName string, data []byte) {
	t.Helper()
	ctx := context.Background()
	_ = p.cp.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: contract.Namespace}})
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name + "-config", Namespace: contract.Namespace}, Data: map[string][]byte{contract.KubeconfigKey: data}}
	err := p.cp.Create(ctx, secret)
	if apierrors.IsAlreadyExists(err) {
		err = p.cp.Update(ctx, secret) // unconditional: Secrets need no resourceVersion
	}
	if err != nil {
		t.Fatal(err)
	}
	cc := &unstructured.Unstructured{}
	cc.SetGroupVersionKind(contract.ClientConfigGVK)
	cc.SetNamespace(contract.Namespace)
	cc.SetName(name)
	cc.Object["spec"] = map[string]any{"contextName": contextName, "kubeConfigSecret": map[string]any{"name": name + "-config"}}
	cc.SetAnnotations(map[string]string{contract.NamespacesAnnotation: strings.Join(p.covered, ",")})
	err = p.cp.Create(ctx, cc)
	if apierrors.IsAlreadyExists(err) {
		err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
			have := cc.DeepCopy()
			if err := p.cp.Get(ctx, client.ObjectKeyFromObject(cc), have); err != nil {
				return err
			}
			have.SetAnnotations(cc.GetAnnotations())
			return p.cp.Update(ctx, have)
		})
	}
	if err != nil {
		t.Fatal(err)
	}
}

func applyManifest(t testing.TB, c client.Client, manifest string) {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(manifest), &u.Object); err != nil {
		t.Fatal(err)
	}
	_ = c.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: u.GetNamespace()}})
	if err := c.Apply(context.Background(), client.ApplyConfigurationFromUnstructured(u), client.FieldOwner("test"), client.ForceOwnership); err != nil {
		t.Fatalf("apply %s: %v", u.GetName(), err)
	}
}

// eventually retries check until it passes, failing t with its last error after 30s.
func eventually(t testing.TB, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func getKC(c client.Client, ns, name string) (*unstructured.Unstructured, error) {
	kc := &unstructured.Unstructured{}
	kc.SetGroupVersionKind(k8ssandraClusterGVK)
	return kc, c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, kc)
}

func getMCC(t *testing.T, c client.Client, ns, name string) *v1beta1.MissionControlCluster {
	t.Helper()
	var m v1beta1.MissionControlCluster
	if err := c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, &m); err != nil {
		t.Fatal(err)
	}
	return &m
}

// condition checks one condition of a MissionControlCluster.
func condition(c client.Client, ns, name, kind string, want metav1.ConditionStatus, reason string) func() error {
	return func() error {
		var m v1beta1.MissionControlCluster
		if err := c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, &m); err != nil {
			return err
		}
		cond := meta.FindStatusCondition(m.Status.Conditions, kind)
		if cond == nil || cond.Status != want || (reason != "" && cond.Reason != reason) || cond.ObservedGeneration != m.Generation {
			return fmt.Errorf("%s = %+v, want %s %s", kind, cond, want, reason)
		}
		return nil
	}
}

func datacenterNamesOf(kc *unstructured.Unstructured) []string {
	dcs, _, _ := unstructured.NestedSlice(kc.Object, "spec", "cassandra", "datacenters")
	var names []string
	for _, dc := range dcs {
		name, _, _ := unstructured.NestedString(dc.(map[string]any), "metadata", "name")
		names = append(names, name)
	}
	return names
}

// reportReady writes what k8ssandra-operator and cass-operator would: every datacenter Ready
// with all its nodes started.
func reportReady(t *testing.T, c client.Client, ns, name string, sizes map[string]int) {
	t.Helper()
	eventually(t, "write K8ssandraCluster status", func() error {
		kc, err := getKC(c, ns, name)
		if err != nil {
			return err
		}
		dcs := map[string]any{}
		for dc, size := range sizes {
			nodes := map[string]any{}
			for i := range size {
				nodes[fmt.Sprintf("%s-%s-r1-sts-%d", name, dc, i)] = map[string]any{"hostID": fmt.Sprintf("host-%d", i)}
			}
			dcs[dc] = map[string]any{"cassandra": map[string]any{"cassandraOperatorProgress": "Ready", "nodeStatuses": nodes}}
		}
		kc.Object["status"] = map[string]any{"datacenters": dcs}
		return c.Status().Update(context.Background(), kc)
	})
}

// addSeed creates a seed pod of cluster in ns with the given address, as cass-operator labels it.
func addSeed(t *testing.T, c client.Client, ns, cluster, ip string) {
	t.Helper()
	ctx := context.Background()
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "seed-" + strings.ReplaceAll(ip, ".", "-"), Namespace: ns,
			Labels: map[string]string{labelCassCluster: cluster, labelSeedNode: "true"}},
		Spec: corev1.PodSpec{NodeName: "node", Containers: []corev1.Container{{Name: "cassandra", Image: "cassandra"}}},
	}
	if err := c.Create(ctx, pod); err != nil {
		t.Fatal(err)
	}
	pod.Status.PodIP = ip
	pod.Status.PodIPs = []corev1.PodIP{{IP: ip}}
	if err := c.Status().Update(ctx, pod); err != nil {
		t.Fatal(err)
	}
}

// TestReconcileAgainstTwoAPIServers runs the operator against a real control plane and a real data
// plane API server and walks through the MissionControlCluster's life.
func TestReconcileAgainstTwoAPIServers(t *testing.T) {
	p := startTwoPlanes(t, testTimings)
	ctx := context.Background()

	t.Run("docs manifest", func(t *testing.T) {
		applyManifest(t, p.cp, docsManifest)
		// Both datacenters are local: dc1 names no context, dc2 this control plane's own.
		eventually(t, "K8ssandraCluster demo/demo on the control plane", func() error {
			kc, err := getKC(p.cp, "demo", "demo")
			if err != nil {
				return err
			}
			if got := datacenterNamesOf(kc); !slices.Equal(got, []string{"dc1", "dc2"}) {
				return fmt.Errorf("datacenters %v", got)
			}
			return nil
		})
		kc, _ := getKC(p.cp, "demo", "demo")
		spec := kc.Object["spec"].(map[string]any)
		for path, want := range map[string]any{
			"cassandra.clusterName":                                                         "demo",
			"cassandra.serverVersion":                                                       "4.0.11",
			"cassandra.superuserSecretRef.name":                                             "demo-superuser",
			"cassandra.serverEncryptionStores.keystoreSecretRef.name":                       "demo-keystore",
			"cassandra.serverEncryptionStores.truststoreSecretRef.name":                     "demo-truststore",
			"cassandra.config.cassandraYaml.server_encryption_options.internode_encryption": "all",
			"cassandra.config.jvmOptions.heapSize":                                          "1Gi",
			"cassandra.storageConfig.cassandraDataVolumeClaimSpec.storageClassName":         "standard",
			"auth": true,
		} {
			got, _, _ := unstructured.NestedFieldNoCopy(spec, strings.Split(path, ".")...)
			if got != want {
				t.Errorf("spec.%s = %v, want %v", path, got, want)
			}
		}
		dcs, _, _ := unstructured.NestedSlice(spec, "cassandra", "datacenters")
		if _, has := dcs[1].(map[string]any)["k8sContext"]; has {
			t.Error("the local K8ssandraCluster keeps k8sContext")
		}
		if _, has := spec["externalDatacenters"]; has {
			t.Error("a single-target cluster declares external datacenters")
		}
		ca := verifyStores(t, p.cp, "demo", "demo", []string{"demo-dc1-service.demo.svc", "demo-dc2-service.demo.svc"}, p.clock.now())
		if ca.Subject.CommonName != "demo/demo internode CA" {
			t.Errorf("CA %s", ca.Subject.CommonName)
		}
		eventually(t, "status while the datacenters start", func() error {
			m := getMCC(t, p.cp, "demo", "demo")
			if len(m.Status.Datacenters) != 2 || m.Status.Datacenters[1].Progress != "Pending" || m.Status.Datacenters[1].Context != "local" {
				return fmt.Errorf("datacenters %+v", m.Status.Datacenters)
			}
			return errors.Join(
				condition(p.cp, "demo", "demo", ConditionReady, metav1.ConditionFalse, "DatacentersNotReady")(),
				condition(p.cp, "demo", "demo", ConditionDataPlanesReachable, metav1.ConditionTrue, "Reachable")(),
				condition(p.cp, "demo", "demo", ConditionCertificatesReady, metav1.ConditionTrue, "Issued")(),
				condition(p.cp, "demo", "demo", ConditionProgressing, metav1.ConditionTrue, "")())
		})
		reportReady(t, p.cp, "demo", "demo", map[string]int{"dc1": 2, "dc2": 2})
		eventually(t, "Ready once the K8ssandraCluster reports its datacenters ready", func() error {
			m := getMCC(t, p.cp, "demo", "demo")
			if m.Status.Datacenters[0].ReadyReplicas != 2 || m.Status.Datacenters[0].Progress != "Ready" {
				return fmt.Errorf("datacenters %+v", m.Status.Datacenters)
			}
			return errors.Join(condition(p.cp, "demo", "demo", ConditionReady, metav1.ConditionTrue, "DatacentersReady")(),
				condition(p.cp, "demo", "demo", ConditionDegraded, metav1.ConditionFalse, "")())
		})
	})

	const westManifest = `
apiVersion: missioncontrol.datastax.com/v1beta1
kind: MissionControlCluster
metadata: {name: west, namespace: shop}
spec:
  createIssuer: true
  encryption: {internodeEncryption: {certs: {createCerts: true, certTemplate: {duration: 720h, renewBefore: 240h}}, enabled: true}}
  k8ssandra:
    cassandra:
      serverVersion: 4.0.11
      datacenters:
        - {metadata: {name: dc1}, size: 1}
        - {metadata: {name: dc2}, k8sContext: DP_WEST, size: 3, racks: [{name: r1}]}
`
	t.Run("two targets", func(t *testing.T) {
		applyManifest(t, p.cp, westManifest)
		eventually(t, "the control plane's K8ssandraCluster", func() error {
			kc, err := getKC(p.cp, "shop", "west")
			if err != nil {
				return err
			}
			ext, _, _ := unstructured.NestedStringSlice(kc.Object, "spec", "externalDatacenters")
			if !slices.Equal(ext, []string{"dc2"}) || !slices.Equal(datacenterNamesOf(kc), []string{"dc1"}) {
				return fmt.Errorf("externalDatacenters %v, datacenters %v", ext, datacenterNamesOf(kc))
			}
			return nil
		})
		// The data plane's datacenter waits for the control plane's to be ready with seeds.
		eventually(t, "dc2 waits for dc1", condition(p.cp, "shop", "west", ConditionDataPlanesReachable, metav1.ConditionTrue, "Reachable"))
		time.Sleep(time.Second) // several resyncs
		if _, err := getKC(p.dp, "shop", "west"); !apierrors.IsNotFound(err) {
			t.Fatalf("the data plane got its K8ssandraCluster before dc1 was ready: %v", err)
		}
		reportReady(t, p.cp, "shop", "west", map[string]int{"dc1": 1})
		addSeed(t, p.cp, "shop", "west", "10.99.0.7")
		eventually(t, "the data plane's K8ssandraCluster", func() error {
			kc, err := getKC(p.dp, "shop", "west")
			if err != nil {
				return err
			}
			seeds, _, _ := unstructured.NestedStringSlice(kc.Object, "spec", "cassandra", "additionalSeeds")
			ext, _, _ := unstructured.NestedStringSlice(kc.Object, "spec", "externalDatacenters")
			if !slices.Equal(seeds, []string{"10.99.0.7"}) || !slices.Equal(ext, []string{"dc1"}) || !slices.Equal(datacenterNamesOf(kc), []string{"dc2"}) {
				return fmt.Errorf("additionalSeeds %v, externalDatacenters %v, datacenters %v", seeds, ext, datacenterNamesOf(kc))
			}
			return nil
		})
		var cpUser, dpUser corev1.Secret
		if err := p.cp.Get(ctx, client.ObjectKey{Namespace: "shop", Name: "west-superuser"}, &cpUser); err != nil {
			t.Fatal(err)
		}
		if err := p.dp.Get(ctx, client.ObjectKey{Namespace: "shop", Name: "west-superuser"}, &dpUser); err != nil {
			t.Fatal(err)
		}
		if string(cpUser.Data["password"]) != string(dpUser.Data["password"]) || len(cpUser.Data["password"]) < 20 {
			t.Error("the superuser Secret differs between the planes")
		}
		names := []string{"west-dc2-service.shop.svc"}
		cpCA := verifyStores(t, p.cp, "shop", "west", []string{"west-dc1-service.shop.svc"}, p.clock.now())
		if dpCA := verifyStores(t, p.dp, "shop", "west", names, p.clock.now()); !dpCA.Equal(cpCA) {
			t.Error("the planes' stores come from different CAs")
		}
		addSeed(t, p.dp, "shop", "west", "10.98.0.9")
		eventually(t, "the control plane learns the data plane's seed", func() error {
			kc, _ := getKC(p.cp, "shop", "west")
			seeds, _, _ := unstructured.NestedStringSlice(kc.Object, "spec", "cassandra", "additionalSeeds")
			if !slices.Equal(seeds, []string{"10.98.0.9"}) {
				return fmt.Errorf("additionalSeeds %v", seeds)
			}
			return nil
		})
		// The control plane's k8ssandra-operator watches the cluster's namespace, not the
		// registrations'.
		eventually(t, "k8ssandra-operator's namespaces", func() error {
			var cm corev1.ConfigMap
			if err := p.cp.Get(ctx, client.ObjectKey{Namespace: contract.Namespace, Name: K8ssandraWatch}, &cm); err != nil {
				return err
			}
			if ns := strings.Split(cm.Data[K8ssandraWatchKey], ","); !slices.Contains(ns, "shop") || !slices.Contains(ns, "default") || slices.Contains(ns, contract.Namespace) {
				return fmt.Errorf("k8ssandra-operator watches %q", cm.Data[K8ssandraWatchKey])
			}
			return nil
		})
		// Each plane's internode NetworkPolicy admits the other's database pods by address.
		for _, side := range []struct {
			c      client.Client
			remote string
		}{{p.cp, "10.98.0.9/32"}, {p.dp, "10.99.0.7/32"}} {
			eventually(t, "the internode policy admits "+side.remote, func() error {
				var np networkingv1.NetworkPolicy
				if err := side.c.Get(ctx, client.ObjectKey{Namespace: "shop", Name: "west-internode"}, &np); err != nil {
					return err
				}
				var blocks []string
				for _, from := range np.Spec.Ingress[0].From {
					if from.IPBlock != nil {
						blocks = append(blocks, from.IPBlock.CIDR)
					}
				}
				if !slices.Equal(blocks, []string{side.remote}) {
					return fmt.Errorf("internode policy admits %v by address, want %s", blocks, side.remote)
				}
				return nil
			})
		}
		eventually(t, "an Event on the MissionControlCluster", func() error {
			var list eventsv1.EventList
			if err := p.cp.List(ctx, &list, client.InNamespace("shop")); err != nil {
				return err
			}
			for _, e := range list.Items {
				if e.Regarding.Name == "west" && e.Reason == "Created" && strings.Contains(e.Note, "in DP_WEST") {
					return nil
				}
			}
			return fmt.Errorf("no Created event for DP_WEST among %d", len(list.Items))
		})
		reportReady(t, p.dp, "shop", "west", map[string]int{"dc2": 3})
		eventually(t, "the data plane's status aggregated", func() error {
			m := getMCC(t, p.cp, "shop", "west")
			want := v1beta1.DatacenterStatus{Name: "dc2", Context: "DP_WEST", Size: 3, ReadyReplicas: 3, Progress: "Ready"}
			if len(m.Status.Datacenters) != 2 || m.Status.Datacenters[1] != want {
				return fmt.Errorf("datacenters %+v", m.Status.Datacenters)
			}
			return condition(p.cp, "shop", "west", ConditionReady, metav1.ConditionTrue, "")()
		})
	})

	t.Run("unreachable data plane", func(t *testing.T) {
		p.proxy.setDown(true)
		eventually(t, "DataPlanesReachable=False", condition(p.cp, "shop", "west", ConditionDataPlanesReachable, metav1.ConditionFalse, "Unreachable"))
		if v := testutil.ToFloat64(dataPlaneReachable.WithLabelValues("dp-west")); v != 0 {
			t.Errorf("mission_control_data_plane_reachable{context=dp-west} = %v while it is down", v)
		}
		m := getMCC(t, p.cp, "shop", "west")
		if m.Status.Datacenters[1].Progress != "Unreachable" || m.Status.Datacenters[0].Progress != "Ready" {
			t.Errorf("datacenters %+v", m.Status.Datacenters)
		}
		// The control plane's datacenter keeps reconciling meanwhile.
		setStopped(t, p.cp, "shop", "west", 0, true)
		eventually(t, "dc1 stopped on the control plane while DP_WEST is down", stoppedIs(p.cp, "shop", "west", true))
		p.proxy.setDown(false)
		eventually(t, "DataPlanesReachable=True again", condition(p.cp, "shop", "west", ConditionDataPlanesReachable, metav1.ConditionTrue, "Reachable"))
		if v := testutil.ToFloat64(dataPlaneReachable.WithLabelValues("dp-west")); v != 1 {
			t.Errorf("mission_control_data_plane_reachable{context=dp-west} = %v once it is back", v)
		}
	})

	t.Run("stopped propagates", func(t *testing.T) {
		setStopped(t, p.cp, "shop", "west", 1, true)
		eventually(t, "dc2 stopped in the data plane", stoppedIs(p.dp, "shop", "west", true))
	})

	t.Run("changed registration", func(t *testing.T) {
		// Port 1 on loopback has no listener: the registration now points nowhere.
		p.register(t, "dp-west", "DP_WEST", p.dpConfig, "https://127.0.0.1:1")
		eventually(t, "the broken registration is used", condition(p.cp, "shop", "west", ConditionDataPlanesReachable, metav1.ConditionFalse, "Unreachable"))
		p.register(t, "dp-west", "DP_WEST", p.dpConfig, "https://"+p.proxy.addr)
		eventually(t, "the repaired registration is used", condition(p.cp, "shop", "west", ConditionDataPlanesReachable, metav1.ConditionTrue, "Reachable"))
	})

	t.Run("a kubeconfig that is not self-contained is refused, the field named", func(t *testing.T) {
		for i, c := range [][2]string{
			{`clusters["DP_WEST"].cluster.insecure-skip-tls-verify`, "clusters: [{name: DP_WEST, cluster: {server: 'https://%s', insecure-skip-tls-verify: true}}]\n" +
				"users: [{name: DP_WEST, user: {token: t}}]\n"},
			{`users["DP_WEST"].user.exec`, "clusters: [{name: DP_WEST, cluster: {server: 'https://%s'}}]\n" +
				"users: [{name: DP_WEST, user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: /bin/sh, interactiveMode: Never}}}]\n"},
			{`users["DP_WEST"].user.tokenFile`, "clusters: [{name: DP_WEST, cluster: {server: 'https://%s'}}]\n" +
				"users: [{name: DP_WEST, user: {tokenFile: /var/run/secrets/kubernetes.io/serviceaccount/token}}]\n"},
		} {
			field, unsafe := c[0], c[1]
			kubeconfig := fmt.Sprintf("apiVersion: v1\nkind: Config\ncurrent-context: DP_WEST\ncontexts: [{name: DP_WEST, context: {cluster: DP_WEST, user: DP_WEST}}]\n"+unsafe, p.proxy.addr)
			p.registerKubeconfig(t, "dp-west", "DP_WEST", []byte(kubeconfig))
			eventually(t, "refused naming "+field, func() error {
				m := getMCC(t, p.cp, "shop", "west")
				cond := meta.FindStatusCondition(m.Status.Conditions, ConditionDataPlanesReachable)
				if cond == nil || cond.Status != metav1.ConditionFalse || !strings.Contains(cond.Message, "the kubeconfig sets "+field) {
					return fmt.Errorf("DataPlanesReachable = %+v", cond)
				}
				return nil
			})
			if i > 0 {
				continue // the recorder counts later refusals into the first event's series
			}
			eventually(t, "an UnsafeKubeconfig event on the ClientConfig", func() error {
				var list eventsv1.EventList
				if err := p.cp.List(ctx, &list, client.InNamespace(contract.Namespace)); err != nil {
					return err
				}
				for _, e := range list.Items {
					if e.Regarding.Kind == "ClientConfig" && e.Regarding.Name == "dp-west" && e.Reason == "UnsafeKubeconfig" && strings.Contains(e.Note, field) {
						return nil
					}
				}
				return fmt.Errorf("no UnsafeKubeconfig event naming %s among %d", field, len(list.Items))
			})
		}
		p.register(t, "dp-west", "DP_WEST", p.dpConfig, "https://"+p.proxy.addr)
		eventually(t, "the repaired registration is used", condition(p.cp, "shop", "west", ConditionDataPlanesReachable, metav1.ConditionTrue, "Reachable"))
	})

	t.Run("deletion with the data plane gone", func(t *testing.T) {
		applyManifest(t, p.cp, strings.Replace(westManifest, "name: west,", "name: gone,", 1))
		reportReady(t, p.cp, "shop", "gone", map[string]int{"dc1": 1})
		addSeed(t, p.cp, "shop", "gone", "10.99.0.8")
		eventually(t, "the data plane's K8ssandraCluster", func() error { _, err := getKC(p.dp, "shop", "gone"); return err })
		p.proxy.setDown(true)
		defer p.proxy.setDown(false)
		if err := p.cp.Delete(ctx, getMCC(t, p.cp, "shop", "gone")); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		if m := getMCC(t, p.cp, "shop", "gone"); m.DeletionTimestamp.IsZero() {
			t.Fatal("not being deleted")
		}
		// The clock only moves the certificates; the deletion timeout runs on it too.
		p.clock.advance(4 * time.Second)
		eventually(t, "the deletion gives up on the data plane after the timeout", func() error {
			var m v1beta1.MissionControlCluster
			if err := p.cp.Get(ctx, client.ObjectKey{Namespace: "shop", Name: "gone"}, &m); !apierrors.IsNotFound(err) {
				return fmt.Errorf("still there (%v)", err)
			}
			return nil
		})
		if _, err := getKC(p.cp, "shop", "gone"); !apierrors.IsNotFound(err) {
			t.Errorf("the control plane keeps its K8ssandraCluster: %v", err)
		}
	})

	t.Run("unknown context degrades only its datacenters", func(t *testing.T) {
		applyManifest(t, p.cp, `
apiVersion: missioncontrol.datastax.com/v1beta1
kind: MissionControlCluster
metadata: {name: south, namespace: shop}
spec:
  k8ssandra:
    auth: false
    cassandra:
      serverVersion: 4.0.11
      datacenters:
        - {metadata: {name: dc1}, size: 1, k8sContext: cp-east}
        - {metadata: {name: dc2}, k8sContext: DP_SOUTH, size: 1}
`)
		eventually(t, "UnknownContext", condition(p.cp, "shop", "south", ConditionDataPlanesReachable, metav1.ConditionFalse, "UnknownContext"))
		cond := meta.FindStatusCondition(getMCC(t, p.cp, "shop", "south").Status.Conditions, ConditionDataPlanesReachable)
		if want := "no data plane is registered for k8sContext DP_SOUTH: register it with mcctl register"; cond.Message != want {
			t.Errorf("message %q, want %q", cond.Message, want)
		}
		eventually(t, "dc1 still created (cp-east is this control plane)", func() error {
			kc, err := getKC(p.cp, "shop", "south")
			if err != nil {
				return err
			}
			if _, has, _ := unstructured.NestedMap(kc.Object, "spec", "cassandra", "superuserSecretRef"); has {
				return errors.New("auth is off, yet a superuser Secret is referenced")
			}
			return nil
		})
		eventually(t, "CertificatesReady without encryption", condition(p.cp, "shop", "south", ConditionCertificatesReady, metav1.ConditionTrue, "NotRequested"))
		// Deleting it does not wait on DP_SOUTH: nothing was ever written there.
		if err := p.cp.Delete(ctx, getMCC(t, p.cp, "shop", "south")); err != nil {
			t.Fatal(err)
		}
		eventually(t, "south deleted", func() error {
			if _, err := getKC(p.cp, "shop", "south"); !apierrors.IsNotFound(err) {
				return fmt.Errorf("the control plane keeps its K8ssandraCluster (%v)", err)
			}
			var m v1beta1.MissionControlCluster
			if err := p.cp.Get(ctx, client.ObjectKey{Namespace: "shop", Name: "south"}, &m); !apierrors.IsNotFound(err) {
				return fmt.Errorf("still there (%v)", err)
			}
			return nil
		})
		var events eventsv1.EventList
		if err := p.cp.List(ctx, &events, client.InNamespace("shop")); err != nil {
			t.Fatal(err)
		}
		for _, e := range events.Items {
			if e.Regarding.Name == "south" && strings.HasPrefix(e.Reason, "Cleanup") {
				t.Errorf("the deletion waited on a context that was never registered: %s %s", e.Reason, e.Note)
			}
		}
	})

	t.Run("issuerRef", func(t *testing.T) {
		installIssuerCRD(t, p.cp)
		ca, err := pki.NewCA("shop issuer", 5*365*24*time.Hour, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if err := p.cp.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "shop-ca", Namespace: "shop"},
			Data: map[string][]byte{keyTLSCert: ca.CertPEM, keyTLSKey: ca.KeyPEM}}); err != nil {
			t.Fatal(err)
		}
		iss := &unstructured.Unstructured{Object: map[string]any{"spec": map[string]any{"ca": map[string]any{"secretName": "shop-ca"}}}}
		iss.SetGroupVersionKind(certManager.WithKind("Issuer"))
		iss.SetNamespace("shop")
		iss.SetName("shop-issuer")
		eventually(t, "create the Issuer", func() error { return p.cp.Create(ctx, iss) })
		applyManifest(t, p.cp, `
apiVersion: missioncontrol.datastax.com/v1beta1
kind: MissionControlCluster
metadata: {name: issued, namespace: shop}
spec:
  encryption: {internodeEncryption: {enabled: true, certs: {createCerts: true, issuerRef: {name: shop-issuer}}}}
  k8ssandra:
    cassandra:
      serverVersion: 4.0.11
      datacenters:
        - {metadata: {name: dc1}, size: 1}
`)
		eventually(t, "CertificatesReady from the issuer", condition(p.cp, "shop", "issued", ConditionCertificatesReady, metav1.ConditionTrue, "Issued"))
		if got := verifyStores(t, p.cp, "shop", "issued", []string{"issued-dc1-service.shop.svc"}, time.Now()); !got.Equal(ca.Cert) {
			t.Error("the stores do not trust the issuer's CA")
		}
		if own := secretData(t, p.cp, "shop", "issued-ca"); own[keyTLSKey] != nil || !bytes.Equal(own[keyCACert], ca.CertPEM) {
			t.Errorf("with issuerRef the CA Secret should only remember the issuer's CA: %v", own)
		}
		applyManifest(t, p.cp, `
apiVersion: missioncontrol.datastax.com/v1beta1
kind: MissionControlCluster
metadata: {name: noissuer, namespace: shop}
spec:
  encryption: {internodeEncryption: {enabled: true, certs: {createCerts: true}}}
  k8ssandra: {cassandra: {datacenters: [{metadata: {name: dc1}, size: 1}]}}
`)
		eventually(t, "createCerts without an issuer is refused", condition(p.cp, "shop", "noissuer", ConditionCertificatesReady, metav1.ConditionFalse, "IssuerError"))
	})

	t.Run("certificate rotation", func(t *testing.T) {
		before := storeCert(t, p.dp, "shop", "west")
		p.clock.advance(21 * 24 * time.Hour) // within renewBefore (240h) of the 720h certificate
		eventually(t, "the data plane's keystore re-issued", func() error {
			if after := storeCert(t, p.dp, "shop", "west"); after.SerialNumber.Cmp(before.SerialNumber) == 0 {
				return errors.New("same certificate")
			}
			return nil
		})
		verifyStores(t, p.dp, "shop", "west", []string{"west-dc2-service.shop.svc"}, p.clock.now())
		oldCA := caOf(t, p.cp, "shop", "west")
		p.clock.advance(9*365*24*time.Hour + time.Hour) // within a year of the CA's expiry
		eventually(t, "CA rotated, both trusted, keystores from the new CA", func() error {
			newCA := caOf(t, p.cp, "shop", "west")
			if newCA.Equal(oldCA) {
				return errors.New("CA not rotated")
			}
			for _, c := range []client.Client{p.cp, p.dp} {
				trusted := truststoreCerts(t, c, "shop", "west")
				if len(trusted) != 2 || !trusted[0].Equal(newCA) || !trusted[1].Equal(oldCA) {
					return fmt.Errorf("truststore holds %d CAs", len(trusted))
				}
				if err := storeCert(t, c, "shop", "west").CheckSignatureFrom(newCA); err != nil {
					return fmt.Errorf("keystore: %w", err)
				}
			}
			return nil
		})
	})

	t.Run("deletion", func(t *testing.T) {
		// k8ssandra-operator's finalizer holds the data plane's K8ssandraCluster while its
		// datacenters go, and cass-operator needs their Secrets until then.
		const held = "k8ssandracluster.k8ssandra.io/finalizer"
		// The operator may write the object between the read and the update: retry as a
		// controller would.
		err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
			kc, err := getKC(p.dp, "shop", "west")
			if err != nil {
				return err
			}
			kc.SetFinalizers([]string{held})
			return p.dp.Update(ctx, kc)
		})
		if err != nil {
			t.Fatal(err)
		}
		m := getMCC(t, p.cp, "shop", "west")
		if err := p.cp.Delete(ctx, m); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the data plane's K8ssandraCluster being deleted", func() error {
			if kc, err := getKC(p.dp, "shop", "west"); err != nil || kc.GetDeletionTimestamp() == nil {
				return fmt.Errorf("not being deleted (%v)", err)
			}
			return nil
		})
		time.Sleep(time.Second) // a few cleanup passes
		var secrets corev1.SecretList
		if err := p.dp.List(ctx, &secrets, client.InNamespace("shop"), client.MatchingLabels{labelCluster: "west"}); err != nil || len(secrets.Items) == 0 {
			t.Fatalf("the data plane's Secrets went before its K8ssandraCluster (%v)", err)
		}
		getMCC(t, p.cp, "shop", "west") // still held
		err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
			kc, err := getKC(p.dp, "shop", "west")
			if err != nil {
				return err
			}
			kc.SetFinalizers(nil)
			return p.dp.Update(ctx, kc)
		})
		if err != nil {
			t.Fatal(err)
		}
		eventually(t, "everything gone in both planes", func() error {
			var errs []error
			for name, c := range map[string]client.Client{"control plane": p.cp, "data plane": p.dp} {
				if _, err := getKC(c, "shop", "west"); !apierrors.IsNotFound(err) {
					errs = append(errs, fmt.Errorf("%s keeps the K8ssandraCluster (%v)", name, err))
				}
				var secrets corev1.SecretList
				if err := c.List(ctx, &secrets, client.InNamespace("shop"), client.MatchingLabels{labelCluster: "west"}); err != nil || len(secrets.Items) > 0 {
					errs = append(errs, fmt.Errorf("%s keeps %d Secrets (%v)", name, len(secrets.Items), err))
				}
			}
			var m v1beta1.MissionControlCluster
			if err := p.cp.Get(ctx, client.ObjectKey{Namespace: "shop", Name: "west"}, &m); !apierrors.IsNotFound(err) {
				errs = append(errs, fmt.Errorf("the MissionControlCluster remains (%v)", err))
			}
			return errors.Join(errs...)
		})
	})

}

// installIssuerCRD serves cert-manager's Issuer kind: only its CA form is read, so the schema
// keeps whatever it is given.
func installIssuerCRD(t *testing.T, c client.Client) {
	t.Helper()
	preserve := true
	crd := &apiextensionsv1.CustomResourceDefinition{
		ObjectMeta: metav1.ObjectMeta{Name: "issuers.cert-manager.io"},
		Spec: apiextensionsv1.CustomResourceDefinitionSpec{
			Group: "cert-manager.io", Scope: apiextensionsv1.NamespaceScoped,
			Names: apiextensionsv1.CustomResourceDefinitionNames{Plural: "issuers", Singular: "issuer", Kind: "Issuer", ListKind: "IssuerList"},
			Versions: []apiextensionsv1.CustomResourceDefinitionVersion{{Name: "v1", Served: true, Storage: true,
				Schema: &apiextensionsv1.CustomResourceValidation{OpenAPIV3Schema: &apiextensionsv1.JSONSchemaProps{
					Type: "object", XPreserveUnknownFields: &preserve}}}},
		},
	}
	if err := c.Create(context.Background(), crd); err != nil {
		t.Fatal(err)
	}
}

func setStopped(t *testing.T, c client.Client, ns, name string, dc int, stopped bool) {
	t.Helper()
	eventually(t, "update the MissionControlCluster", func() error {
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(v1beta1.GroupVersion.WithKind("MissionControlCluster"))
		if err := c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, u); err != nil {
			return err
		}
		dcs, _, _ := unstructured.NestedSlice(u.Object, "spec", "k8ssandra", "cassandra", "datacenters")
		dcs[dc].(map[string]any)["stopped"] = stopped
		_ = unstructured.SetNestedSlice(u.Object, dcs, "spec", "k8ssandra", "cassandra", "datacenters")
		return c.Update(context.Background(), u)
	})
}

func stoppedIs(c client.Client, ns, name string, want bool) func() error {
	return func() error {
		kc, err := getKC(c, ns, name)
		if err != nil {
			return err
		}
		dcs, _, _ := unstructured.NestedSlice(kc.Object, "spec", "cassandra", "datacenters")
		if got, _ := dcs[0].(map[string]any)["stopped"].(bool); got != want {
			return fmt.Errorf("stopped = %v", got)
		}
		return nil
	}
}

func secretData(t *testing.T, c client.Client, ns, name string) map[string][]byte {
	t.Helper()
	var s corev1.Secret
	if err := c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, &s); err != nil {
		t.Fatalf("Secret %s/%s: %v", ns, name, err)
	}
	return s.Data
}

func caOf(t *testing.T, c client.Client, ns, mcc string) *x509.Certificate {
	certs, err := certutil.ParseCertsPEM(secretData(t, c, ns, mcc+"-ca")[keyTLSCert])
	if err != nil {
		t.Fatal(err)
	}
	return certs[0]
}

func storeCert(t *testing.T, c client.Client, ns, mcc string) *x509.Certificate {
	data := secretData(t, c, ns, mcc+"-keystore")
	_, cert, _, err := pkcs12.DecodeChain(data[keyKeystore], string(data[keyKeystorePassword]))
	if err != nil {
		t.Fatalf("decode keystore: %v", err)
	}
	return cert
}

func truststoreCerts(t *testing.T, c client.Client, ns, mcc string) []*x509.Certificate {
	data := secretData(t, c, ns, mcc+"-truststore")
	certs, err := pkcs12.DecodeTrustStore(data[keyTruststore], string(data[keyTruststorePassword]))
	if err != nil {
		t.Fatalf("decode truststore: %v", err)
	}
	return certs
}

// verifyStores checks a cluster's stores: the keystore's certificate chains to the truststore's
// CA, names every datacenter's service, is usable for internode TLS both ways and not expiring.
func verifyStores(t *testing.T, c client.Client, ns, mcc string, names []string, now time.Time) *x509.Certificate {
	t.Helper()
	cert := storeCert(t, c, ns, mcc)
	trusted := truststoreCerts(t, c, ns, mcc)
	roots := x509.NewCertPool()
	for _, ca := range trusted {
		roots.AddCert(ca)
	}
	for _, name := range names {
		if _, err := cert.Verify(x509.VerifyOptions{Roots: roots, DNSName: name, CurrentTime: now,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}); err != nil {
			t.Errorf("keystore certificate for %s: %v", name, err)
		}
	}
	if cert.NotAfter.Before(now.Add(24 * time.Hour)) {
		t.Errorf("keystore certificate expires %s", cert.NotAfter)
	}
	return trusted[0]
}

// clock is the operator's clock, moved forward by the test.
type clock struct{ offset atomic.Int64 }

func (c *clock) now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *clock) advance(d time.Duration) { c.offset.Add(int64(d)) }

// proxy forwards loopback TCP to an API server; down, it drops every connection.
type proxy struct {
	addr  string
	down  atomic.Bool
	mu    sync.Mutex
	conns map[net.Conn]bool
}

func startProxy(t testing.TB, backend string) *proxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{addr: l.Addr().String(), conns: map[net.Conn]bool{}}
	t.Cleanup(func() { l.Close(); p.setDown(true) })
	go func() {
		for {
			in, err := l.Accept()
			if err != nil {
				return
			}
			if p.down.Load() {
				in.Close()
				continue
			}
			out, err := net.Dial("tcp", backend)
			if err != nil {
				t.Logf("proxy: %v", err)
				in.Close()
				continue
			}
			p.track(in, out)
			go func() { _, _ = io.Copy(out, in); out.Close() }()
			go func() { _, _ = io.Copy(in, out); in.Close() }()
		}
	}()
	return p
}

func (p *proxy) track(conns ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range conns {
		p.conns[c] = true
	}
}

func (p *proxy) setDown(down bool) {
	p.down.Store(down)
	if !down {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
}
