package missioncontrol

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/datastax/mission-control/internal/contract"
	"github.com/datastax/mission-control/operators/missioncontrol/api/v1beta1"
)

// How a MissionControlCluster becomes one Cassandra cluster across Kubernetes clusters.
//
// Its datacenters are grouped by target: the Kubernetes cluster their k8sContext names (a
// registered data plane, or this control plane when empty or this control plane's own context).
// Each target gets one K8ssandraCluster, named and namespaced like the MissionControlCluster,
// holding that target's datacenters with k8sContext cleared: the k8ssandra-operator running there
// reconciles it as a local cluster. What makes the K8ssandraClusters one Cassandra cluster:
//
//   - the same cassandra.clusterName everywhere (the spec's, else the MissionControlCluster's name);
//   - the same superuser: a Secret generated once on the control plane and copied to every
//     target, named by superuserSecretRef (unless the spec names its own);
//   - externalDatacenters lists every other target's datacenters, so each k8ssandra-operator keeps
//     the system keyspaces replicated to all of them;
//   - cassandra.additionalSeeds lists the seed pods' addresses of every other target, read from
//     those targets' pods once they have them (pod addresses must route between the clusters);
//   - targets are created in the order their first datacenter appears: a target's
//     K8ssandraCluster is created only once every earlier target's datacenters are ready and have
//     seeds, so later datacenters join the existing ring instead of starting rings of their own.
//     Once created, a K8ssandraCluster is always kept up to date.

// GVKs of k8ssandra's resources, used as unstructured (see contract.ClientConfigGVK).
var (
	k8ssandraClusterGVK = schema.GroupVersionKind{Group: "k8ssandra.io", Version: "v1alpha1", Kind: "K8ssandraCluster"}
)

// Labels and names of what the operator writes.
const (
	labelCluster          = "missioncontrol.datastax.com/cluster"
	labelClusterNamespace = "missioncontrol.datastax.com/cluster-namespace"
	labelManagedBy        = "app.kubernetes.io/managed-by"
	managedBy             = "mission-control-operator"
	fieldOwner            = client.FieldOwner("mission-control-operator")
	finalizer             = "missioncontrol.datastax.com/cleanup"

	// cass-operator's pod labels.
	labelCassCluster = "cassandra.datastax.com/cluster"
	labelSeedNode    = "cassandra.datastax.com/seed-node"
)

// errNotRegistered: a datacenter names a context no data plane is registered for.
var errNotRegistered = errors.New("no data plane is registered")

// target is one Kubernetes cluster a MissionControlCluster's datacenters live in.
type target struct {
	// Key is the normalized context, "" for the control plane itself; Context is as written.
	Key, Context string
	// Datacenters are indexes into the spec's datacenters.
	Datacenters []int
	Client      client.Client
	// Err says why the target cannot be reached (not registered, no usable client, down).
	Err error
}

// local reports whether the target is the control plane itself.
func (t *target) local() bool { return t.Key == "" }

// name is the target as status and events show it.
func (t *target) name() string {
	if t.local() {
		return "local"
	}
	return t.Context
}

// planTargets groups the datacenters by target, in order of first appearance.
func planTargets(dcs []v1beta1.DatacenterTemplate, namespace, localContext string, local client.Client, planes map[string]*DataPlane) []*target {
	var targets []*target
	byKey := map[string]*target{}
	for i, dc := range dcs {
		key := contract.NormalizeContext(dc.K8sContext)
		if key != "" && key == contract.NormalizeContext(localContext) {
			key = ""
		}
		t, ok := byKey[key]
		if !ok {
			t = &target{Key: key, Context: dc.K8sContext}
			switch dp := planes[key]; {
			case key == "":
				t.Client = local
			case dp == nil:
				t.Err = fmt.Errorf("%w for k8sContext %s: register it with mcctl register", errNotRegistered, dc.K8sContext)
			case !dp.registration.Covers(namespace):
				t.Err = fmt.Errorf("%w for namespace %s in k8sContext %s (it covers %s): run mcctl register --source-context %s --dest-context <this control plane> --database-namespaces %s",
					errNotRegistered, namespace, dc.K8sContext, coverage(dp.registration.Namespaces), dp.Context, strings.Join(append(slices.Clone(dp.registration.Namespaces), namespace), ","))
			case dp.Err != nil:
				t.Err = dp.Err
			default:
				t.Client = dp.Client
			}
			byKey[key] = t
			targets = append(targets, t)
		}
		t.Datacenters = append(t.Datacenters, i)
	}
	return targets
}

// coverage lists a registration's namespaces for a message.
func coverage(namespaces []string) string {
	if len(namespaces) == 0 {
		return "none: it was registered before registrations named their namespaces"
	}
	return strings.Join(namespaces, ", ")
}

// clusterName is the Cassandra cluster's name, the same in every target.
func clusterName(mcc *v1beta1.MissionControlCluster, k8ssandra map[string]any) string {
	if name, _, _ := unstructured.NestedString(k8ssandra, "cassandra", "clusterName"); name != "" {
		return name
	}
	return mcc.Name
}

// cleanName is a name as cass-operator puts it into resource names and labels.
func cleanName(name string) string { return contract.NormalizeContext(name) }

// datacenterNames are a datacenter's resource name (metadata.name, prefixed with the cluster's
// name under prefixDcs) and its Cassandra name (datacenterName, else the unprefixed name).
func datacenterNames(mcc *v1beta1.MissionControlCluster, raw map[string]any) (resource, cassandra string) {
	name, _, _ := unstructured.NestedString(raw, "metadata", "name")
	resource = name
	if mcc.Spec.PrefixDcs {
		resource = mcc.Name + "-" + name
	}
	cassandra, _, _ = unstructured.NestedString(raw, "datacenterName")
	if cassandra == "" {
		cassandra = name
	}
	return resource, cassandra
}

// desiredInput is what the K8ssandraCluster of one target is made from.
type desiredInput struct {
	MCC *v1beta1.MissionControlCluster
	// K8ssandra is spec.k8ssandra as written, unknown fields included.
	K8ssandra map[string]any
	Target    *target
	// Seeds are the other targets' seed addresses; Superuser names the shared superuser Secret
	// ("" when the spec names its own or auth is off); Stores is set when the operator issues
	// the internode stores.
	Seeds []string
	// RemotePods are the other targets' database pods' addresses, which its internode
	// NetworkPolicy admits.
	RemotePods []string
	Superuser  string
	Stores     bool
	// Issued records the stores written (see issuedStores).
	Issued issuedStores
}

// desiredK8ssandraCluster is the K8ssandraCluster one target should hold.
func desiredK8ssandraCluster(in desiredInput) (*unstructured.Unstructured, error) {
	spec := runtime.DeepCopyJSON(in.K8ssandra)
	dcs, external, err := targetDatacenters(in, spec)
	if err != nil {
		return nil, err
	}
	cass := spec["cassandra"].(map[string]any)
	cass["datacenters"] = dcs
	cass["clusterName"] = clusterName(in.MCC, in.K8ssandra)
	if in.Superuser != "" {
		cass["superuserSecretRef"] = map[string]any{"name": in.Superuser}
	}
	if len(in.Seeds) > 0 {
		seeds, _, _ := unstructured.NestedStringSlice(cass, "additionalSeeds")
		cass["additionalSeeds"] = toAny(union(seeds, in.Seeds))
	}
	if len(external) > 0 {
		listed, _, _ := unstructured.NestedStringSlice(spec, "externalDatacenters")
		external = union(external, listed)
		sort.Strings(external)
		spec["externalDatacenters"] = toAny(external)
	}
	if in.Stores {
		if err := useStores(in.MCC, cass); err != nil {
			return nil, err
		}
	}
	kc := &unstructured.Unstructured{Object: map[string]any{"spec": spec}}
	kc.SetGroupVersionKind(k8ssandraClusterGVK)
	kc.SetName(in.MCC.Name)
	kc.SetNamespace(in.MCC.Namespace)
	kc.SetLabels(ownedLabels(in.MCC))
	if in.Stores {
		kc.SetAnnotations(map[string]string{annotationCertificate: in.Issued.CertPEM, annotationTrust: in.Issued.TrustDigest})
	}
	return kc, nil
}

// targetDatacenters are the datacenters of spec (a copy of in.K8ssandra) that live in in's
// target, named as their resources are and without k8sContext, and the Cassandra names of all
// the others.
func targetDatacenters(in desiredInput, spec map[string]any) (mine []any, others []string, err error) {
	rawDCs, _, err := unstructured.NestedSlice(spec, "cassandra", "datacenters")
	if err != nil {
		return nil, nil, fmt.Errorf("spec.k8ssandra.cassandra.datacenters: %w", err)
	}
	for i, item := range rawDCs {
		dc, ok := item.(map[string]any)
		if !ok {
			return nil, nil, fmt.Errorf("spec.k8ssandra.cassandra.datacenters[%d] is not an object", i)
		}
		resource, cassandra := datacenterNames(in.MCC, dc)
		if !slices.Contains(in.Target.Datacenters, i) {
			others = append(others, cassandra)
			continue
		}
		delete(dc, "k8sContext")
		if err := unstructured.SetNestedField(dc, resource, "metadata", "name"); err != nil {
			return nil, nil, err
		}
		if resource != cassandra {
			dc["datacenterName"] = cassandra
		}
		mine = append(mine, dc)
	}
	return mine, others, nil
}

// useStores points the cluster's internode encryption at the keystore and truststore the
// operator writes.
func useStores(mcc *v1beta1.MissionControlCluster, cass map[string]any) error {
	cass["serverEncryptionStores"] = map[string]any{
		"keystoreSecretRef":           map[string]any{"name": keystoreSecret(mcc), "key": keyKeystore},
		"keystorePasswordSecretRef":   map[string]any{"name": keystoreSecret(mcc), "key": keyKeystorePassword},
		"truststoreSecretRef":         map[string]any{"name": truststoreSecret(mcc), "key": keyTruststore},
		"truststorePasswordSecretRef": map[string]any{"name": truststoreSecret(mcc), "key": keyTruststorePassword},
	}
	// The stores are PKCS #12; Cassandra's default store type is JKS.
	for k, v := range map[string]any{"internode_encryption": "all", "store_type": "PKCS12"} {
		if err := unstructured.SetNestedField(cass, v, "config", "cassandraYaml", "server_encryption_options", k); err != nil {
			return fmt.Errorf("spec.k8ssandra.cassandra.config.cassandraYaml: %w", err)
		}
	}
	return nil
}

// union is a followed by the elements of b it lacks.
func union(a, b []string) []string {
	out := slices.Clone(a)
	for _, s := range b {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// ownedLabels mark what the operator writes for a MissionControlCluster, in every cluster.
func ownedLabels(mcc *v1beta1.MissionControlCluster) map[string]string {
	return map[string]string{labelCluster: mcc.Name, labelClusterNamespace: mcc.Namespace, labelManagedBy: managedBy}
}

func caSecret(mcc *v1beta1.MissionControlCluster) string         { return mcc.Name + "-ca" }
func keystoreSecret(mcc *v1beta1.MissionControlCluster) string   { return mcc.Name + "-keystore" }
func truststoreSecret(mcc *v1beta1.MissionControlCluster) string { return mcc.Name + "-truststore" }

// ownedSecrets names the Secrets the operator may have written for mcc in a cluster.
func ownedSecrets(mcc *v1beta1.MissionControlCluster, k8ssandra map[string]any) []string {
	names := []string{caSecret(mcc), keystoreSecret(mcc), truststoreSecret(mcc)}
	if s := superuserSecret(mcc, k8ssandra); s != "" {
		names = append(names, s)
	}
	return names
}

// superuserSecret names the shared superuser Secret, "" when the spec turns auth off or names
// its own Secret.
func superuserSecret(mcc *v1beta1.MissionControlCluster, k8ssandra map[string]any) string {
	if auth, found, _ := unstructured.NestedBool(k8ssandra, "auth"); found && !auth {
		return ""
	}
	if name, _, _ := unstructured.NestedString(k8ssandra, "cassandra", "superuserSecretRef", "name"); name != "" {
		return ""
	}
	return cleanName(clusterName(mcc, k8ssandra)) + "-superuser"
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
