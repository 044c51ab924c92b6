package missioncontrol

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// ClientConfigNamespace holds the registered data planes' ClientConfigs and their kubeconfig
// Secrets (mcctl register).
const ClientConfigNamespace = "mission-control"

// ClientConfigGVK is k8ssandra's ClientConfig, read as unstructured: its Go package needs an
// older controller-runtime than the operator's.
var ClientConfigGVK = schema.GroupVersionKind{Group: "config.k8ssandra.io", Version: "v1beta1", Kind: "ClientConfig"}

// KubeconfigKey is where a ClientConfig's Secret keeps the kubeconfig (k8ssandra's convention).
const KubeconfigKey = "kubeconfig"

// DataPlaneRules are all the operator may do in a registered data plane (mcctl register binds
// them to the control plane's service account there): write and read K8ssandraClusters, make
// namespaces, list pods (for seed addresses), and write and delete Secrets without reading any.
// Being unable to read Secrets is why the operator records what it issued on the
// K8ssandraCluster instead (see issuedStores).
func DataPlaneRules() []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{
		{APIGroups: []string{"k8ssandra.io"}, Resources: []string{"k8ssandraclusters"}, Verbs: []string{"get", "create", "update", "patch", "delete"}},
		{APIGroups: []string{""}, Resources: []string{"namespaces"}, Verbs: []string{"get", "create"}},
		{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"list"}},
		{APIGroups: []string{""}, Resources: []string{"secrets"}, Verbs: []string{"create", "update", "patch", "delete", "deletecollection"}},
	}
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

// DataPlane is a registered data plane and, once connected (DataPlanes.Connect), a client for it.
type DataPlane struct {
	// Name is the ClientConfig's name; Context the context it registers (spec.contextName, or
	// the name when that is empty).
	Name, Context string
	// Server is the API address the registration's kubeconfig names.
	Server string
	// Client reaches the data plane's API server; nil when Err says why it cannot be built.
	Client client.Client
	Err    error

	clientConfig *unstructured.Unstructured
}

// DataPlanes builds clients for the registered data planes from their ClientConfigs. Clients are
// cached by the ClientConfig's and the Secret's resource versions: a changed registration gets a
// new client on the next reconcile, without a restart.
type DataPlanes struct {
	// Reader reads ClientConfigs and Secrets on the control plane: the manager's cache, which
	// watches both in ClientConfigNamespace, so a reconcile costs no API calls for them.
	Reader client.Reader
	Scheme *runtime.Scheme
	// Timeout bounds every request to a data plane, so an unreachable one costs one timeout.
	Timeout time.Duration
	// Namespace holds the registrations; empty means ClientConfigNamespace.
	Namespace string

	mu    sync.Mutex
	cache map[string]cachedClient
}

type cachedClient struct {
	version, server string
	client          client.Client
}

func (d *DataPlanes) namespace() string {
	if d.Namespace == "" {
		return ClientConfigNamespace
	}
	return d.Namespace
}

// List returns the registered data planes by normalized context name, not yet connected: a
// reconcile connects only those its cluster names.
func (d *DataPlanes) List(ctx context.Context) (map[string]*DataPlane, error) {
	list := &unstructured.UnstructuredList{}
	list.SetGroupVersionKind(ClientConfigGVK.GroupVersion().WithKind(ClientConfigGVK.Kind + "List"))
	if err := d.Reader.List(ctx, list, client.InNamespace(d.namespace())); err != nil {
		if meta.IsNoMatchError(err) {
			return nil, nil // k8ssandra-operator's CRDs are not installed: nothing is registered
		}
		return nil, fmt.Errorf("list ClientConfigs: %w", err)
	}
	planes := map[string]*DataPlane{}
	seen := map[string]bool{}
	for i := range list.Items {
		cc := &list.Items[i]
		context, _, _ := unstructured.NestedString(cc.Object, "spec", "contextName")
		if context == "" {
			context = cc.GetName()
		}
		planes[NormalizeContext(context)] = &DataPlane{Name: cc.GetName(), Context: context, clientConfig: cc}
		seen[cc.GetName()] = true
	}
	d.mu.Lock()
	for name := range d.cache {
		if !seen[name] {
			delete(d.cache, name) // deregistered
		}
	}
	d.mu.Unlock()
	return planes, nil
}

// Connect gives dp its client (cached, see DataPlanes), or the reason it has none.
func (d *DataPlanes) Connect(ctx context.Context, dp *DataPlane) {
	if dp.Client == nil && dp.Err == nil {
		dp.Client, dp.Server, dp.Err = d.client(ctx, dp.clientConfig, dp.Context)
	}
}

// client returns the cached client of a ClientConfig, or builds one from its kubeconfig Secret.
func (d *DataPlanes) client(ctx context.Context, cc *unstructured.Unstructured, context string) (client.Client, string, error) {
	secretName, _, _ := unstructured.NestedString(cc.Object, "spec", "kubeConfigSecret", "name")
	if secretName == "" {
		return nil, "", fmt.Errorf("ClientConfig %s names no kubeconfig Secret (spec.kubeConfigSecret.name): register the data plane again with mcctl register", cc.GetName())
	}
	var secret corev1.Secret
	if err := d.Reader.Get(ctx, client.ObjectKey{Namespace: d.namespace(), Name: secretName}, &secret); err != nil {
		return nil, "", fmt.Errorf("read the kubeconfig Secret %s of ClientConfig %s: %w", secretName, cc.GetName(), err)
	}
	version := cc.GetResourceVersion() + "/" + secret.ResourceVersion
	d.mu.Lock()
	cached, ok := d.cache[cc.GetName()]
	d.mu.Unlock()
	if ok && cached.version == version {
		return cached.client, cached.server, nil
	}
	cfg, err := restConfig(secret.Data[KubeconfigKey], context)
	if err != nil {
		return nil, "", fmt.Errorf("kubeconfig Secret %s of ClientConfig %s: %w", secretName, cc.GetName(), err)
	}
	cfg.Timeout = d.Timeout
	limitRate(cfg)
	c, err := client.New(cfg, client.Options{Scheme: d.Scheme})
	if err != nil {
		return nil, "", fmt.Errorf("client for data plane %s: %w", context, err)
	}
	d.mu.Lock()
	if d.cache == nil {
		d.cache = map[string]cachedClient{}
	}
	d.cache[cc.GetName()] = cachedClient{version: version, server: cfg.Host, client: c}
	d.mu.Unlock()
	return c, cfg.Host, nil
}

// limitRate sets how many requests a client may send: a reconcile sends a handful to each of its
// clusters, and client-go's default (5 per second) would make clusters wait on each other.
func limitRate(cfg *rest.Config) {
	cfg.QPS, cfg.Burst = 50, 100
}

// restConfig reads a kubeconfig, using the context named like the registration when it has
// one and its current context otherwise.
func restConfig(kubeconfig []byte, context string) (*rest.Config, error) {
	if len(kubeconfig) == 0 {
		return nil, fmt.Errorf("no %q entry", KubeconfigKey)
	}
	raw, err := clientcmd.Load(kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("parse kubeconfig: %w", err)
	}
	overrides := &clientcmd.ConfigOverrides{}
	for name := range raw.Contexts {
		if name == context || NormalizeContext(name) == NormalizeContext(context) {
			overrides.CurrentContext = name
		}
	}
	cfg, err := clientcmd.NewNonInteractiveClientConfig(*raw, overrides.CurrentContext, overrides, nil).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	return cfg, nil
}
