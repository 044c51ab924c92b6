package registration_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"

	mcctlcli "github.com/datastax/mission-control/cmd/mcctl/commands"
	"github.com/datastax/mission-control/internal/cli"
	"github.com/datastax/mission-control/internal/contract"
	"github.com/datastax/mission-control/operators/missioncontrol"
	"github.com/datastax/mission-control/registration"
	"github.com/datastax/mission-control/runtime/apiservertest"
	"github.com/datastax/mission-control/runtime/k0s"
)

const crdDir = "../charts/mission-control/crds"

// planes are a control plane (CP_EAST) and a data plane (DP_WEST), each with what install leaves
// for registration to check: the mission-control namespace and the operators' Deployments.
type planes struct {
	cp, dp       client.Client
	cpCfg, dpCfg *rest.Config
	cpServer     *apiservertest.Server
}

func startPlanes(t *testing.T) *planes {
	t.Helper()
	servers := apiservertest.StartN(t, 2, crdDir)
	cp, dp := servers[0], servers[1]
	scheme, err := missioncontrol.Scheme()
	if err != nil {
		t.Fatal(err)
	}
	p := &planes{cpCfg: cp.Config, dpCfg: dp.Config, cpServer: cp}
	for _, side := range []struct {
		into        *client.Client
		cfg         *rest.Config
		deployments []string
	}{
		{&p.cp, cp.Config, []string{"mission-control-operator", "k8ssandra-operator"}},
		{&p.dp, dp.Config, []string{"k8ssandra-operator"}},
	} {
		c, err := client.New(side.cfg, client.Options{Scheme: scheme})
		if err != nil {
			t.Fatal(err)
		}
		*side.into = c
		ctx := context.Background()
		if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "mission-control"}}); err != nil {
			t.Fatal(err)
		}
		for _, name := range side.deployments {
			if err := c.Create(ctx, deployment(name)); err != nil {
				t.Fatal(err)
			}
		}
		// The ranges install records (the shared pair's in the vm-tests).
		pods, services := "10.109.0.0/17", "10.109.128.0/17"
		if len(side.deployments) == 2 {
			pods, services = "10.108.0.0/17", "10.108.128.0/17"
		}
		if err := c.Create(ctx, joinFacts(pods, services)); err != nil {
			t.Fatal(err)
		}
		// Each cluster's node, by which the other's kube-router peers with it.
		addr := "172.30.0.3"
		if len(side.deployments) == 2 {
			addr = "172.30.0.2"
		}
		node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-" + addr},
			Status: corev1.NodeStatus{Addresses: []corev1.NodeAddress{{Type: corev1.NodeHostName, Address: "host"}, {Type: corev1.NodeInternalIP, Address: addr}}}}
		if err := c.Create(ctx, node); err != nil {
			t.Fatal(err)
		}
		if err := c.Status().Update(ctx, node); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

// peering describes a cluster's side of the routes between clusters: its peers ConfigMap and its
// nodes' kube-router peer annotations.
func peering(t *testing.T, c client.Client) string {
	t.Helper()
	ctx := context.Background()
	var cm corev1.ConfigMap
	desc := "no peers ConfigMap"
	err := c.Get(ctx, client.ObjectKey{Namespace: "kube-system", Name: contract.Peers}, &cm)
	if err == nil {
		desc = fmt.Sprint(cm.Data)
	} else if !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	var nodes corev1.NodeList
	if err := c.List(ctx, &nodes); err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes.Items {
		desc += fmt.Sprintf("; %s peers %q asns %q", n.Name, n.Annotations[contract.PeerIPsAnnotation], n.Annotations[contract.PeerASNsAnnotation])
	}
	return desc
}

// withResourceVersion gives cm the resource version of its stored self, for an Update.
func withResourceVersion(t *testing.T, c client.Client, cm *corev1.ConfigMap) *corev1.ConfigMap {
	t.Helper()
	var have corev1.ConfigMap
	if err := c.Get(context.Background(), client.ObjectKeyFromObject(cm), &have); err != nil {
		t.Fatal(err)
	}
	cm.ResourceVersion = have.ResourceVersion
	return cm
}

func joinFacts(pods, services string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: k0s.JoinConfigMap},
		Data: k0s.JoinFacts{LicenseID: "L-1", Mode: "data-plane", PodCIDR: pods, ServiceCIDR: services, Version: "v1"}.Data()}
}

func deployment(name string) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "mission-control"},
		Spec: appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: name, Image: name}}}}}}
}

// writeKubeconfigs writes one kubeconfig file per context and points KUBECONFIG at all of them,
// as a user with several clusters would.
func writeKubeconfigs(t *testing.T, contexts map[string]*rest.Config) {
	t.Helper()
	var paths []string
	for name, cfg := range contexts {
		kc := clientcmdapi.NewConfig()
		kc.Clusters[name] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData, InsecureSkipTLSVerify: cfg.Insecure}
		kc.AuthInfos[name] = &clientcmdapi.AuthInfo{ClientCertificateData: cfg.CertData, ClientKeyData: cfg.KeyData, Token: cfg.BearerToken}
		kc.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: name}
		path := filepath.Join(t.TempDir(), strings.ToLower(name)+".yaml")
		if err := clientcmd.WriteToFile(*kc, path); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, path)
	}
	slices.Sort(paths)
	t.Setenv("KUBECONFIG", strings.Join(paths, string(os.PathListSeparator)))
}

type result struct {
	code           int
	stdout, stderr string
}

func mcctl(args ...string) result {
	var out, errOut bytes.Buffer
	code := mcctlcli.Run(context.Background(), cli.Streams{In: strings.NewReader(""), Out: &out, Err: &errOut}, args)
	return result{code, out.String(), errOut.String()}
}

// registrationObjects lists, on one cluster, what registration may write there (a token Secret's
// generated suffix as *).
func registrationObjects(t *testing.T, c client.Client) []string {
	t.Helper()
	ctx := context.Background()
	var names []string
	var sas corev1.ServiceAccountList
	var secrets corev1.SecretList
	var bindings rbacv1.ClusterRoleBindingList
	var roles rbacv1.ClusterRoleList
	var nsRoles rbacv1.RoleList
	var nsBindings rbacv1.RoleBindingList
	var policies admissionregistrationv1.ValidatingAdmissionPolicyList
	var policyBindings admissionregistrationv1.ValidatingAdmissionPolicyBindingList
	ccs := &unstructured.UnstructuredList{}
	ccs.SetGroupVersionKind(contract.ClientConfigGVK.GroupVersion().WithKind("ClientConfigList"))
	for _, l := range []client.ObjectList{&sas, &secrets, &bindings, &roles, ccs} {
		if err := c.List(ctx, l, client.InNamespace("mission-control")); err != nil {
			t.Fatal(err)
		}
	}
	for _, l := range []client.ObjectList{&nsRoles, &nsBindings, &policies, &policyBindings} {
		if err := c.List(ctx, l); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range sas.Items {
		if s.Name != "default" {
			names = append(names, "ServiceAccount "+s.Name)
		}
	}
	for _, s := range secrets.Items {
		names = append(names, "Secret "+tokenSuffix.ReplaceAllString(s.Name, "-token-*"))
	}
	for _, b := range bindings.Items {
		if strings.HasPrefix(b.Name, "mission-control") {
			names = append(names, "ClusterRoleBinding "+b.Name)
		}
	}
	for _, r := range roles.Items {
		if strings.HasPrefix(r.Name, "mission-control") {
			names = append(names, "ClusterRole "+r.Name)
		}
	}
	for _, r := range nsRoles.Items {
		names = append(names, "Role "+r.Namespace+"/"+r.Name)
	}
	for _, b := range nsBindings.Items {
		names = append(names, "RoleBinding "+b.Namespace+"/"+b.Name)
	}
	for _, p := range policies.Items {
		names = append(names, "ValidatingAdmissionPolicy "+p.Name)
	}
	for _, b := range policyBindings.Items {
		names = append(names, "ValidatingAdmissionPolicyBinding "+b.Name)
	}
	for _, cc := range ccs.Items {
		names = append(names, "ClientConfig "+cc.GetName())
	}
	slices.Sort(names)
	return names
}

var tokenSuffix = regexp.MustCompile(`-token-[a-z0-9]+$`)

// grantedObjects are what registration writes on the data plane for CP_EAST, covering namespaces.
func grantedObjects(namespaces ...string) []string {
	objs := []string{"Secret control-plane-cp-east-token-*", "ServiceAccount control-plane-cp-east",
		"ValidatingAdmissionPolicy mission-control-data-plane-cp-east", "ValidatingAdmissionPolicyBinding mission-control-data-plane-cp-east"}
	for _, ns := range namespaces {
		objs = append(objs, "Role "+ns+"/mission-control-data-plane-cp-east", "RoleBinding "+ns+"/mission-control-data-plane-cp-east")
	}
	return objs
}

// allowed lists what the data plane's authorizer lets the control plane's service account do,
// asked by SubjectAccessReview for every verb on every resource that matters, in kube-system,
// mission-control, the covered namespaces and another, and cluster-wide.
func allowed(t *testing.T, dp client.Client, namespaces ...string) []string {
	t.Helper()
	resources := [][3]string{
		{"", "secrets", ""}, {"", "serviceaccounts", ""}, {"", "serviceaccounts", "token"}, {"", "pods", ""}, {"", "pods", "exec"},
		{"", "configmaps", ""}, {"", "namespaces", ""}, {"k8ssandra.io", "k8ssandraclusters", ""},
		{"networking.k8s.io", "networkpolicies", ""}, {"rbac.authorization.k8s.io", "rolebindings", ""}, {"apps", "deployments", ""},
	}
	verbs := []string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection", "impersonate"}
	var got []string
	for _, ns := range append([]string{"kube-system", "mission-control", "other", ""}, namespaces...) {
		for _, r := range resources {
			for _, verb := range verbs {
				sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
					User:               "system:serviceaccount:mission-control:control-plane-cp-east",
					Groups:             []string{"system:serviceaccounts", "system:serviceaccounts:mission-control", "system:authenticated"},
					ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: ns, Verb: verb, Group: r[0], Resource: r[1], Subresource: r[2]}}}
				if err := dp.Create(context.Background(), sar); err != nil {
					t.Fatal(err)
				}
				if sar.Status.Allowed {
					where := ns
					if where == "" {
						where = "cluster-wide"
					}
					got = append(got, fmt.Sprintf("%s %s %s", where, verb, strings.TrimSuffix(r[1]+"/"+r[2], "/")))
				}
			}
		}
	}
	slices.Sort(got)
	return got
}

// operatorRights is what a covered namespace allows the control plane's service account.
func operatorRights(namespaces ...string) []string {
	var out []string
	for _, r := range []string{"k8ssandraclusters get", "k8ssandraclusters create", "k8ssandraclusters update", "k8ssandraclusters patch",
		"k8ssandraclusters delete", "pods list", "secrets create", "secrets update", "secrets delete", "networkpolicies create",
		"networkpolicies update", "networkpolicies patch", "networkpolicies delete"} {
		resource, verb, _ := strings.Cut(r, " ")
		for _, ns := range namespaces {
			out = append(out, ns+" "+verb+" "+resource)
		}
	}
	slices.Sort(out)
	return out
}

func registeredKubeconfig(t *testing.T, cp client.Client) []byte {
	t.Helper()
	var s corev1.Secret
	if err := cp.Get(context.Background(), client.ObjectKey{Namespace: "mission-control", Name: "dp-west-config"}, &s); err != nil {
		t.Fatal(err)
	}
	return s.Data[contract.KubeconfigKey]
}

func TestRegisterAgainstTwoAPIServers(t *testing.T) {
	p := startPlanes(t)
	down := rest.CopyConfig(p.dpCfg)
	down.Host = "https://127.0.0.1:1" // nothing listens on port 1
	insecure := rest.CopyConfig(p.dpCfg)
	insecure.Insecure, insecure.CAData = true, nil
	writeKubeconfigs(t, map[string]*rest.Config{"CP_EAST": p.cpCfg, "DP_WEST": p.dpCfg, "DP_DOWN": down, "DP_INSECURE": insecure})
	ctx := context.Background()
	cpBefore, dpBefore := registrationObjects(t, p.cp), registrationObjects(t, p.dp)

	t.Run("bad input leaves both clusters as they were", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			args []string
			want string
		}{
			{"no contexts", []string{"register"}, "--source-context and --dest-context are required"},
			{"unknown context", []string{"register", "--source-context", "DP_NORTH", "--dest-context", "CP_EAST"},
				"--source-context DP_NORTH: no such context in the kubeconfig ($KUBECONFIG="},
			{"same context twice", []string{"register", "--source-context", "DP_WEST", "--dest-context", "DP_WEST"},
				"--source-context and --dest-context both name DP_WEST: a cluster cannot register with itself"},
			{"missing namespace", []string{"register", "--source-context", "DP_WEST", "--dest-context", "CP_EAST", "--namespace", "mc"},
				"--source-context DP_WEST has no namespace mc: install mission-control there first"},
			{"unreachable server", []string{"register", "--source-context", "DP_DOWN", "--dest-context", "CP_EAST"},
				"--source-context DP_DOWN: the API server at https://127.0.0.1:1 does not answer"},
			{"swapped sides", []string{"register", "--source-context", "CP_EAST", "--dest-context", "DP_WEST"},
				"--dest-context DP_WEST is not a mission-control control-plane: no mission-control-operator in namespace mission-control"},
			{"bad server flag", []string{"register", "--source-context", "DP_WEST", "--dest-context", "CP_EAST", "--source-server", "10.1.2.3:6443"},
				`--source-server "10.1.2.3:6443" is not an https URL`},
			{"bad namespace", []string{"register", "--source-context", "DP_WEST", "--dest-context", "CP_EAST", "--database-namespaces", "db,Shop_1"},
				`--database-namespaces: "Shop_1" is not a namespace name`},
			{"insecure kubeconfig", []string{"register", "--source-context", "DP_INSECURE", "--dest-context", "CP_EAST"},
				"--source-context DP_INSECURE: its kubeconfig skips verifying the API server (insecure-skip-tls-verify), so a credential sent there could go to anyone: give the cluster its CA (certificate-authority-data), or pass --insecure-skip-tls-verify"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := mcctl(tc.args...)
				if r.code != 1 || !strings.Contains(r.stderr, tc.want) || strings.Count(r.stderr, "\n") != 1 {
					t.Errorf("exit %d, stderr %q; want one line with %q", r.code, r.stderr, tc.want)
				}
			})
		}
		// A data plane whose pod range overlaps the control plane's pods or Services.
		for _, pods := range []string{"10.108.64.0/18", "10.108.128.0/24"} {
			if err := p.dp.Update(ctx, withResourceVersion(t, p.dp, joinFacts(pods, "10.109.128.0/17"))); err != nil {
				t.Fatal(err)
			}
			r := mcctl("register", "--source-context", "DP_WEST", "--dest-context", "CP_EAST")
			want := "--source-context DP_WEST's pod range " + pods + " overlaps --dest-context CP_EAST's "
			if r.code != 1 || !strings.Contains(r.stderr, want) || !strings.Contains(r.stderr, "install it again with another --cidr") {
				t.Errorf("exit %d, stderr %q; want %q", r.code, r.stderr, want)
			}
		}
		if err := p.dp.Update(ctx, withResourceVersion(t, p.dp, joinFacts("10.109.0.0/17", "10.109.128.0/17"))); err != nil {
			t.Fatal(err)
		}
		// A data plane whose pod range overlaps another registered with the control plane.
		north := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: contract.Peers},
			Data: map[string]string{"dp-north": `{"podCIDR":"10.109.64.0/18","nodes":["172.30.0.9"]}`}}
		if err := p.cp.Create(ctx, north); err != nil {
			t.Fatal(err)
		}
		r := mcctl("register", "--source-context", "DP_WEST", "--dest-context", "CP_EAST")
		if want := "--source-context DP_WEST's pod range 10.109.0.0/17 overlaps that of dp-north, already registered with --dest-context CP_EAST (10.109.64.0/18)"; r.code != 1 || !strings.Contains(r.stderr, want) {
			t.Errorf("exit %d, stderr %q; want %q", r.code, r.stderr, want)
		}
		if err := p.cp.Delete(ctx, north); err != nil {
			t.Fatal(err)
		}
		for _, c := range []client.Client{p.cp, p.dp} {
			if got := peering(t, c); !strings.HasPrefix(got, "no peers ConfigMap") || !strings.HasSuffix(got, `peers "" asns ""`) {
				t.Errorf("peering changed: %s", got)
			}
		}
		if got := registrationObjects(t, p.cp); !slices.Equal(got, cpBefore) {
			t.Errorf("the control plane changed: %v, was %v", got, cpBefore)
		}
		if got := registrationObjects(t, p.dp); !slices.Equal(got, dpBefore) {
			t.Errorf("the data plane changed: %v, was %v", got, dpBefore)
		}
	})

	t.Run("the docs' command", func(t *testing.T) {
		r := mcctl("register", "--source-context", "DP_WEST", "--dest-context", "CP_EAST")
		if r.code != 0 || !strings.Contains(r.stdout, "Registered DP_WEST with CP_EAST as ClientConfig mission-control/dp-west") {
			t.Fatalf("register: %+v", r)
		}
		if !strings.Contains(r.stderr, "Warning: the data plane's API address in your kubeconfig is https://127.0.0.1:") {
			t.Errorf("no warning about the loopback address: %q", r.stderr)
		}
		if got, want := registrationObjects(t, p.cp), append(slices.Clone(cpBefore), "ClientConfig dp-west", "Secret dp-west-config"); !slices.Equal(got, sorted(want)) {
			t.Errorf("control plane objects %v, want %v", got, sorted(want))
		}
		if got, want := registrationObjects(t, p.dp), append(slices.Clone(dpBefore), grantedObjects("default")...); !slices.Equal(got, sorted(want)) {
			t.Errorf("data plane objects %v, want %v", got, sorted(want))
		}
		if !strings.Contains(r.stdout, "Its credential acts in DP_WEST's namespaces default only.") {
			t.Errorf("register does not say where the credential acts: %q", r.stdout)
		}
		cc := &unstructured.Unstructured{}
		cc.SetGroupVersionKind(contract.ClientConfigGVK)
		if err := p.cp.Get(ctx, client.ObjectKey{Namespace: "mission-control", Name: "dp-west"}, cc); err != nil {
			t.Fatal(err)
		}
		spec, _, _ := unstructured.NestedMap(cc.Object, "spec")
		if fmt.Sprint(spec) != "map[contextName:DP_WEST kubeConfigSecret:map[name:dp-west-config]]" || cc.GetAnnotations()[contract.NamespacesAnnotation] != "default" {
			t.Errorf("ClientConfig spec %v, annotations %v", spec, cc.GetAnnotations())
		}
		// Each cluster lists the other as a peer, and its node peers with the other's over BGP.
		if got, want := peering(t, p.dp), `map[cp-east:{"podCIDR":"10.108.0.0/17","nodes":["172.30.0.2"]}]; node-172.30.0.3 peers "172.30.0.2" asns "64512"`; got != want {
			t.Errorf("data plane's peering:\n%s\nwant\n%s", got, want)
		}
		if got, want := peering(t, p.cp), `map[dp-west:{"podCIDR":"10.109.0.0/17","nodes":["172.30.0.3"]}]; node-172.30.0.2 peers "172.30.0.3" asns "64512"`; got != want {
			t.Errorf("control plane's peering:\n%s\nwant\n%s", got, want)
		}
		if !strings.Contains(r.stdout, "Their pods reach each other: 1 node of DP_WEST and 1 node of CP_EAST peer over BGP") {
			t.Errorf("register does not say the pods are routed: %q", r.stdout)
		}
	})

	t.Run("the credential allows the operator's needs and no more", func(t *testing.T) {
		if got, want := allowed(t, p.dp, "default"), operatorRights("default"); !slices.Equal(got, want) {
			t.Errorf("the control plane's service account may\n%s\nwant exactly\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		// What RBAC cannot say, the admission policy does: of the Secrets it may write, only the
		// operator's own. Tried with the registered token itself.
		dp := clientOf(t, registeredKubeconfig(t, p.cp))
		theirs := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "dc1-keystore"}, Data: map[string][]byte{"key": []byte("k")}}
		if err := p.dp.Create(ctx, theirs); err != nil {
			t.Fatal(err)
		}
		owned := map[string]string{contract.OwnedSecretLabel: contract.MissionControlOperator}
		refused := "the control plane's credential may write only the Secrets the mission-control-operator owns"
		for what, err := range map[string]error{
			"read another's Secret":     dp.Get(ctx, client.ObjectKeyFromObject(theirs), &corev1.Secret{}),
			"list Secrets":              dp.List(ctx, &corev1.SecretList{}, client.InNamespace("default")),
			"patch another's Secret":    dp.Patch(ctx, theirs.DeepCopy(), client.RawPatch(types.MergePatchType, []byte(`{}`))),
			"delete another's Secret":   dp.Delete(ctx, theirs.DeepCopy()),
			"replace another's Secret":  dp.Update(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "dc1-keystore", Labels: owned}}),
			"create an unlabelled one":  dp.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "plain"}}),
			"create one in kube-system": dp.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: "x", Labels: owned}}),
			"mint a service account token": dp.SubResource("token").Create(ctx,
				&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system", Name: "default"}}, &authenticationv1.TokenRequest{}),
		} {
			if !apierrors.IsForbidden(err) && !apierrors.IsInvalid(err) {
				t.Errorf("%s: %v, want forbidden", what, err)
			}
			if strings.HasSuffix(what, "another's Secret") && strings.HasPrefix(what, "replace") && !strings.Contains(fmt.Sprint(err), refused) {
				t.Errorf("%s: %v, want the policy's message", what, err)
			}
		}
		mine := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "demo-keystore", Labels: owned}, Data: map[string][]byte{"k": []byte("1")}}
		if err := dp.Create(ctx, mine); err != nil {
			t.Fatalf("create its own Secret: %v", err)
		}
		if err := dp.Update(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "demo-keystore", Labels: owned}, Data: map[string][]byte{"k": []byte("2")}}); err != nil {
			t.Errorf("replace its own Secret: %v", err)
		}
		if err := dp.Update(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "demo-keystore"}}); err == nil || !strings.Contains(err.Error(), refused) {
			t.Errorf("dropping the label of its own Secret: %v", err)
		}
		if err := dp.Delete(ctx, mine); err != nil {
			t.Errorf("delete its own Secret: %v", err)
		}
		var kept corev1.Secret
		if err := p.dp.Get(ctx, client.ObjectKeyFromObject(theirs), &kept); err != nil || string(kept.Data["key"]) != "k" {
			t.Errorf("another's Secret changed: %v %v", kept.Data, err)
		}
		r := mcctl("dataplanes", "--dest-context", "CP_EAST")
		expires := time.Now().Add(registration.DefaultTokenLifetime).UTC().Format(time.DateOnly)
		if r.code != 0 || !regexp.MustCompile(`dp-west +DP_WEST +https://127.0.0.1:\d+/? +default +`+expires+` +yes`).MatchString(r.stdout) {
			t.Errorf("dataplanes: %+v, want its namespaces, token expiry %s and yes", r, expires)
		}
	})

	t.Run("register again: other namespaces, and the earlier token revoked", func(t *testing.T) {
		old := registeredKubeconfig(t, p.cp)
		// What a registration made before namespaced Roles left: a cluster-wide role and binding
		// and a token Secret of a fixed name. Registering again removes them.
		legacy := []client.Object{
			&rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "mission-control-data-plane", Labels: map[string]string{"app.kubernetes.io/managed-by": "mcctl"}}},
			&rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "mission-control-data-plane-mission-control-control-plane-cp-east", Labels: map[string]string{"app.kubernetes.io/managed-by": "mcctl"}},
				RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "mission-control-data-plane"},
				Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: "control-plane-cp-east", Namespace: "mission-control"}}},
			&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "control-plane-cp-east-token", Namespace: "mission-control"}},
		}
		for _, o := range legacy {
			if err := p.dp.Create(ctx, o); err != nil {
				t.Fatal(err)
			}
		}
		r := mcctl("register", "--source-context", "DP_WEST", "--dest-context", "CP_EAST", "--database-namespaces", "db,default")
		if r.code != 0 || !strings.Contains(r.stdout, "Revoked the earlier token of mission-control/control-plane-cp-east.") {
			t.Fatalf("register again: %+v", r)
		}
		waitRevoked(t, old)
		if !works(registeredKubeconfig(t, p.cp)) {
			t.Error("the new token does not work")
		}
		for _, o := range legacy {
			if err := p.dp.Get(ctx, client.ObjectKeyFromObject(o), o); !apierrors.IsNotFound(err) {
				t.Errorf("the earlier registration's %T %s is still there (%v)", o, o.GetName(), err)
			}
		}
		if got, want := allowed(t, p.dp, "db", "default"), operatorRights("db", "default"); !slices.Equal(got, want) {
			t.Errorf("the control plane's service account may\n%s\nwant exactly\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		// Without the flag, the namespaces stay; with it, one left out loses its Role.
		if r := mcctl("register", "--source-context", "DP_WEST", "--dest-context", "CP_EAST"); r.code != 0 || !strings.Contains(r.stdout, "namespaces db, default only") {
			t.Fatalf("register without --database-namespaces: %+v", r)
		}
		if r := mcctl("register", "--source-context", "DP_WEST", "--dest-context", "CP_EAST", "--database-namespaces", "default"); r.code != 0 {
			t.Fatalf("register with fewer namespaces: %+v", r)
		}
		if got, want := registrationObjects(t, p.dp), append(slices.Clone(dpBefore), grantedObjects("default")...); !slices.Equal(got, sorted(want)) {
			t.Errorf("data plane objects %v, want %v", got, sorted(want))
		}
	})

	t.Run("re-run after revoking the token restores access", func(t *testing.T) {
		old := registeredKubeconfig(t, p.cp)
		if err := p.dp.DeleteAllOf(ctx, &corev1.Secret{}, client.InNamespace("mission-control"), client.MatchingLabels{"missioncontrol.datastax.com/token-of": "control-plane-cp-east"}); err != nil {
			t.Fatal(err)
		}
		waitRevoked(t, old)
		r := mcctl("dataplanes", "--dest-context", "CP_EAST", "-o", "json")
		if r.code != 0 || !strings.Contains(r.stdout, `"reachable": false`) {
			t.Errorf("dataplanes after revoking: %+v", r)
		}
		if r := mcctl("register", "--source-context", "DP_WEST", "--dest-context", "CP_EAST"); r.code != 0 {
			t.Fatalf("register again: %+v", r)
		}
		if !works(registeredKubeconfig(t, p.cp)) {
			t.Error("the new token does not work")
		}
	})

	t.Run("an insecure kubeconfig, accepted explicitly: the control plane still verifies the data plane", func(t *testing.T) {
		// What the data plane's controller-manager publishes in every namespace.
		rootCA := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "mission-control", Name: "kube-root-ca.crt"}, Data: map[string]string{"ca.crt": string(p.dpCfg.CAData)}}
		if err := p.dp.Create(ctx, rootCA); err != nil {
			t.Fatal(err)
		}
		r := mcctl("register", "--source-context", "DP_INSECURE", "--dest-context", "CP_EAST", "--name", "dp-west", "--insecure-skip-tls-verify")
		if r.code != 0 || !strings.Contains(r.stderr, "Warning: --insecure-skip-tls-verify: mcctl does not verify the API server of DP_INSECURE") {
			t.Fatalf("register --insecure-skip-tls-verify: %+v", r)
		}
		kc, err := clientcmd.Load(registeredKubeconfig(t, p.cp))
		if err != nil {
			t.Fatal(err)
		}
		if cl := kc.Clusters["DP_INSECURE"]; cl == nil || cl.InsecureSkipTLSVerify || !bytes.Equal(cl.CertificateAuthorityData, p.dpCfg.CAData) {
			t.Errorf("the registered kubeconfig's cluster %+v, want the published CA and verification", cl)
		}
		if r := mcctl("register", "--source-context", "DP_WEST", "--dest-context", "CP_EAST"); r.code != 0 {
			t.Fatalf("register again: %+v", r)
		}
	})

	t.Run("nothing half-written when the control plane refuses", func(t *testing.T) {
		// A control plane user who may read but not write: register fails writing there.
		readOnly := p.cpServer.UserConfig(t, "reader")
		role := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "reader"},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "reader"},
			Subjects: []rbacv1.Subject{{Kind: "User", APIGroup: rbacv1.GroupName, Name: "reader"}}}
		if err := p.cp.Create(ctx, role); err != nil {
			t.Fatal(err)
		}
		if err := p.cp.Create(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "reader"}, Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: []string{"get", "list"}}}}); err != nil {
			t.Fatal(err)
		}
		writeKubeconfigs(t, map[string]*rest.Config{"CP_RO": readOnly, "DP_WEST": p.dpCfg, "CP_EAST": p.cpCfg})
		before := registrationObjects(t, p.dp)
		r := mcctl("register", "--source-context", "DP_WEST", "--dest-context", "CP_RO", "--name", "west-ro")
		if r.code != 1 || !strings.Contains(r.stderr, "--dest-context CP_RO: write Secret mission-control/west-ro-config") ||
			!strings.Contains(r.stderr, "nothing was left on the data plane") {
			t.Errorf("register with a read-only control plane: %+v", r)
		}
		if got := registrationObjects(t, p.dp); !slices.Equal(got, before) {
			t.Errorf("the data plane keeps %v, was %v", got, before)
		}
	})

	t.Run("deregister refuses while a MissionControlCluster uses the data plane", func(t *testing.T) {
		if err := p.cp.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "db"}}); err != nil {
			t.Fatal(err)
		}
		mcc := &unstructured.Unstructured{Object: map[string]any{
			"metadata": map[string]any{"name": "demo", "namespace": "db"},
			"spec": map[string]any{"k8ssandra": map[string]any{"cassandra": map[string]any{"serverVersion": "4.0.11", "datacenters": []any{
				map[string]any{"metadata": map[string]any{"name": "dc1"}, "size": int64(1)},
				map[string]any{"metadata": map[string]any{"name": "dc2"}, "k8sContext": "dp_west", "size": int64(1)},
			}}}}}}
		mcc.SetGroupVersionKind(contract.MissionControlClusterGVK)
		if err := p.cp.Create(ctx, mcc); err != nil {
			t.Fatal(err)
		}
		cpNow, dpNow, peersNow := registrationObjects(t, p.cp), registrationObjects(t, p.dp), peering(t, p.dp)
		r := mcctl("deregister", "--source-context", "DP_WEST", "--dest-context", "CP_EAST")
		want := "DP_WEST is still used by MissionControlCluster db/demo (datacenter dc2): delete it, or move its datacenters off DP_WEST, then deregister"
		if r.code != 1 || !strings.Contains(r.stderr, want) {
			t.Errorf("deregister of a used data plane: %+v, want %q", r, want)
		}
		if !slices.Equal(registrationObjects(t, p.cp), cpNow) || !slices.Equal(registrationObjects(t, p.dp), dpNow) || peering(t, p.dp) != peersNow {
			t.Error("a refused deregister changed the clusters")
		}
		if err := p.cp.Delete(ctx, mcc); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("deregister removes everything", func(t *testing.T) {
		current := registeredKubeconfig(t, p.cp)
		r := mcctl("deregister", "--source-context", "DP_WEST", "--dest-context", "CP_EAST")
		if r.code != 0 {
			t.Fatalf("deregister: %+v", r)
		}
		waitRevoked(t, current)
		if got := registrationObjects(t, p.cp); !slices.Equal(got, cpBefore) {
			t.Errorf("the control plane keeps %v", got)
		}
		if got := registrationObjects(t, p.dp); !slices.Equal(got, dpBefore) {
			t.Errorf("the data plane keeps %v", got)
		}
		for _, c := range []client.Client{p.cp, p.dp} {
			if got := peering(t, c); !strings.HasPrefix(got, "no peers ConfigMap") || !strings.HasSuffix(got, `peers "" asns ""`) {
				t.Errorf("peering after deregister: %s", got)
			}
		}
	})
}

func sorted(s []string) []string { slices.Sort(s); return s }

// waitRevoked waits until the data plane refuses a kubeconfig's token.
func waitRevoked(t *testing.T, kubeconfig []byte) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for works(kubeconfig) {
		if time.Now().After(deadline) {
			t.Fatal("the token still works after its Secret was deleted")
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// clientOf is a client with a kubeconfig's credential.
func clientOf(t *testing.T, kubeconfig []byte) client.Client {
	t.Helper()
	cfg, err := clientcmd.RESTConfigFromKubeConfig(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(cfg, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// works reports whether a kubeconfig's credential is accepted.
func works(kubeconfig []byte) bool {
	cfg, err := clientcmd.RESTConfigFromKubeConfig(kubeconfig)
	if err != nil {
		return false
	}
	c, err := client.New(cfg, client.Options{})
	if err != nil {
		return false
	}
	return c.Create(context.Background(), &authenticationv1.SelfSubjectReview{}) == nil
}
