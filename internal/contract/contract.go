// Package contract is what the platform's parts agree on across clusters: the namespace the
// platform runs in, its operators, and how a data plane is registered with a control plane (a
// k8ssandra ClientConfig naming a Secret with a kubeconfig, and the rights that kubeconfig's
// identity holds in the data plane). mcctl register writes registrations, the
// mission-control-operator reads them; both read and write them through this package only.
package contract

import (
	"context"
	"fmt"
	"slices"
	"strings"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Namespace is where the platform's operators run and where a control plane keeps its
// registrations (ClientConfigs and their kubeconfig Secrets).
const Namespace = "mission-control"

// ClusterFacts names the ConfigMap, in kube-system, where install records a cluster's facts:
// joining nodes check them, and mcctl register keeps registered clusters' ranges apart. Its keys
// for the ranges:
const (
	ClusterFacts   = "mission-control-join"
	PodCIDRKey     = "podCIDR"
	ServiceCIDRKey = "serviceCIDR"
)

// The platform's operators: each a Deployment of that name in Namespace.
const (
	CassOperator           = "cass-operator"
	K8ssandraOperator      = "k8ssandra-operator"
	MissionControlOperator = "mission-control-operator"
)

// VolumeProvisioner is the provisioner name of the platform's StorageClasses: the PVs it makes
// carry it in their pv.kubernetes.io/provisioned-by annotation.
const VolumeProvisioner = "missioncontrol.datastax.com/local-volume"

// LocalPathProvisioner is the volume provisioner's Deployment, in Namespace, in every mode.
const LocalPathProvisioner = "local-path-provisioner"

// MissionControlAPI is the Deployment that serves the Mission Control API and web UI, in
// Namespace, on control planes.
const MissionControlAPI = "mission-control-api"

// Deployments are what a healthy cluster of the mode runs in Namespace: its operators, the
// volume provisioner and, on a control plane, the API and UI.
func Deployments(controlPlane bool) []string {
	d := append(Operators(controlPlane), LocalPathProvisioner)
	if controlPlane {
		d = append(d, MissionControlAPI)
	}
	return d
}

// Operators are the operators a cluster runs: a control plane all three, a data plane all but
// the mission-control-operator.
func Operators(controlPlane bool) []string {
	if controlPlane {
		return []string{CassOperator, K8ssandraOperator, MissionControlOperator}
	}
	return []string{CassOperator, K8ssandraOperator}
}

// MissionControlClusterGVK is the documented MissionControlCluster, as mcctl reads it
// (unstructured: mcctl links no operator): deregister refuses a data plane one still uses.
var MissionControlClusterGVK = schema.GroupVersionKind{Group: "missioncontrol.datastax.com", Version: "v1beta1", Kind: "MissionControlCluster"}

// ClientConfigGVK is k8ssandra's ClientConfig, read as unstructured: its Go package needs an
// older controller-runtime than ours.
var ClientConfigGVK = schema.GroupVersionKind{Group: "config.k8ssandra.io", Version: "v1beta1", Kind: "ClientConfig"}

// KubeconfigKey is where a ClientConfig's Secret keeps the kubeconfig (k8ssandra's convention).
const KubeconfigKey = "kubeconfig"

// NamespacesAnnotation, on a ClientConfig, lists (comma-separated) the data plane's namespaces
// where the registration's credential may act: mcctl register grants its Role in each of them, and
// the mission-control-operator places there only MissionControlClusters of those namespaces.
const NamespacesAnnotation = "missioncontrol.datastax.com/namespaces"

// DataPlaneRules are all the mission-control-operator may do in a registered data plane, granted
// by mcctl register as a Role in each namespace the registration covers, nowhere else: read and
// write K8ssandraClusters, list pods (seed addresses), write each cluster's internode
// NetworkPolicy, and create, replace and delete Secrets without ever reading one. Secrets get no
// get, list, watch or patch (a no-op patch answers with the Secret's data) and no
// deletecollection; DataPlaneSecretPolicy further limits the writes to the operator's own Secrets.
// Being unable to read Secrets is why the operator records what it issued on the K8ssandraCluster.
func DataPlaneRules() []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{
		{APIGroups: []string{"k8ssandra.io"}, Resources: []string{"k8ssandraclusters"}, Verbs: []string{"get", "create", "update", "patch", "delete"}},
		{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"list"}},
		{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"create", "update", "delete"}},
		{APIGroups: []string{"networking.k8s.io"}, Resources: []string{"networkpolicies"}, Verbs: []string{"create", "update", "patch", "delete"}},
	}
}

// OwnedSecretLabel marks the Secrets the mission-control-operator writes (label value
// MissionControlOperator); DataPlaneSecretPolicy admits a control plane's writes only to them.
const OwnedSecretLabel = "app.kubernetes.io/managed-by"

// DataPlaneSecretPolicy is the admission policy, and its binding, that RBAC cannot express: the
// user (a control plane's service account) may create only Secrets labelled as the operator's, and
// replace or delete only Secrets that already are. Others' Secrets in the same namespaces (e.g.
// cass-operator's keystores) stay out of its reach.
func DataPlaneSecretPolicy(name, user string) (*admissionregistrationv1.ValidatingAdmissionPolicy, *admissionregistrationv1.ValidatingAdmissionPolicyBinding) {
	owned := func(obj string) string {
		return fmt.Sprintf("has(%[1]s.metadata.labels) && '%[2]s' in %[1]s.metadata.labels && %[1]s.metadata.labels['%[2]s'] == '%[3]s'", obj, OwnedSecretLabel, MissionControlOperator)
	}
	fail := admissionregistrationv1.Fail
	message := fmt.Sprintf("the control plane's credential may write only the Secrets the mission-control-operator owns (label %s=%s)", OwnedSecretLabel, MissionControlOperator)
	policy := &admissionregistrationv1.ValidatingAdmissionPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: admissionregistrationv1.ValidatingAdmissionPolicySpec{
			FailurePolicy: &fail,
			MatchConstraints: &admissionregistrationv1.MatchResources{ResourceRules: []admissionregistrationv1.NamedRuleWithOperations{{
				RuleWithOperations: admissionregistrationv1.RuleWithOperations{
					Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update, admissionregistrationv1.Delete},
					Rule:       admissionregistrationv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"secrets"}},
				}}}},
			MatchConditions: []admissionregistrationv1.MatchCondition{{Name: "control-plane", Expression: fmt.Sprintf("request.userInfo.username == '%s'", user)}},
			Validations: []admissionregistrationv1.Validation{
				{Expression: "request.operation == 'DELETE' || (" + owned("object") + ")", Message: message},
				{Expression: "request.operation == 'CREATE' || (" + owned("oldObject") + ")", Message: message},
			},
		},
	}
	binding := &admissionregistrationv1.ValidatingAdmissionPolicyBinding{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec{PolicyName: name,
			ValidationActions: []admissionregistrationv1.ValidationAction{admissionregistrationv1.Deny}},
	}
	return policy, binding
}

// NormalizeContext is a context name as DNS-1123 spells it, so that the name a user wrote in a
// kubeconfig (DP_WEST) and the resource name registration derived from it (dp-west) match.
func NormalizeContext(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteRune('-')
		}
	}
	return strings.Trim(b.String(), "-")
}

// Registration is a data plane registered with a control plane: its ClientConfig.
type Registration struct {
	// Name is the ClientConfig's name; Context the context it registers (spec.contextName, or
	// the name when that is empty).
	Name, Context string
	// Secret names the Secret holding the kubeconfig (spec.kubeConfigSecret.name).
	Secret string
	// Version is the ClientConfig's resource version; UID its UID.
	Version string
	UID     types.UID
	// Namespaces are the data plane's namespaces the registration covers (NamespacesAnnotation).
	Namespaces []string
}

// Covers reports whether the registration's credential may act in the data plane's namespace.
func (reg Registration) Covers(namespace string) bool {
	return slices.Contains(reg.Namespaces, namespace)
}

// Object refers to the registration's ClientConfig in namespace, e.g. for an event about it.
func (reg Registration) Object(namespace string) *unstructured.Unstructured {
	cc := &unstructured.Unstructured{}
	cc.SetGroupVersionKind(ClientConfigGVK)
	cc.SetNamespace(namespace)
	cc.SetName(reg.Name)
	cc.SetUID(reg.UID)
	cc.SetResourceVersion(reg.Version)
	return cc
}

// ParseNamespaces reads NamespacesAnnotation's value.
func ParseNamespaces(value string) []string {
	var out []string
	for _, ns := range strings.Split(value, ",") {
		if ns = strings.TrimSpace(ns); ns != "" && !slices.Contains(out, ns) {
			out = append(out, ns)
		}
	}
	return out
}

// Registrations lists the registrations in namespace. A cluster without k8ssandra-operator's
// CRDs has none.
func Registrations(ctx context.Context, r client.Reader, namespace string) ([]Registration, error) {
	list := &unstructured.UnstructuredList{}
	list.SetGroupVersionKind(ClientConfigGVK.GroupVersion().WithKind(ClientConfigGVK.Kind + "List"))
	if err := r.List(ctx, list, client.InNamespace(namespace)); err != nil {
		if meta.IsNoMatchError(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("list ClientConfigs: %w", err)
	}
	regs := make([]Registration, 0, len(list.Items))
	for _, cc := range list.Items {
		reg := Registration{Name: cc.GetName(), Version: cc.GetResourceVersion(), UID: cc.GetUID()}
		reg.Context, _, _ = unstructured.NestedString(cc.Object, "spec", "contextName")
		if reg.Context == "" {
			reg.Context = reg.Name
		}
		reg.Secret, _, _ = unstructured.NestedString(cc.Object, "spec", "kubeConfigSecret", "name")
		reg.Namespaces = ParseNamespaces(cc.GetAnnotations()[NamespacesAnnotation])
		regs = append(regs, reg)
	}
	return regs, nil
}

// Kubeconfig reads the registration's kubeconfig from its Secret in namespace, with the Secret's
// resource version.
func (reg Registration) Kubeconfig(ctx context.Context, r client.Reader, namespace string) (data []byte, version string, err error) {
	if reg.Secret == "" {
		return nil, "", fmt.Errorf("ClientConfig %s names no kubeconfig Secret (spec.kubeConfigSecret.name): register the data plane again with mcctl register", reg.Name)
	}
	var s corev1.Secret
	if err := r.Get(ctx, client.ObjectKey{Namespace: namespace, Name: reg.Secret}, &s); err != nil {
		return nil, "", fmt.Errorf("read the kubeconfig Secret %s of ClientConfig %s: %w", reg.Secret, reg.Name, err)
	}
	return s.Data[KubeconfigKey], s.ResourceVersion, nil
}

// IsContext accepts the kubeconfig context a registration named context uses: the one named like
// it, as written or in DNS form (kube.RESTConfig takes the current context when none is).
func IsContext(context string) func(name string) bool {
	return func(name string) bool { return name == context || NormalizeContext(name) == NormalizeContext(context) }
}
