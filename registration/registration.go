// Package registration registers data planes with a control plane (mcctl register): on the
// data plane, a service account for the control plane bound to the mission-control-operator's
// data plane rules and a token for it; on the control plane, a kubeconfig Secret holding that
// token and a k8ssandra ClientConfig naming it, which the operator reads.
package registration

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apiserver/pkg/authentication/serviceaccount"
	"k8s.io/client-go/discovery"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	"github.com/datastax/mission-control/internal/contract"
	"github.com/datastax/mission-control/internal/kube"
)

// Labels on everything registration writes, so deregister and listings find it.
const (
	labelManagedBy    = "app.kubernetes.io/managed-by"
	managedBy         = "mcctl"
	labelControlPlane = "missioncontrol.datastax.com/control-plane"
	labelDataPlane    = "missioncontrol.datastax.com/data-plane"
	// labelToken marks the Secrets a control plane's tokens are bound to.
	labelToken = "missioncontrol.datastax.com/token-of"
	// dataPlaneRole prefixes the data plane's Roles, RoleBindings and Secret admission policy of
	// one control plane (DataPlaneRules, DataPlaneSecretPolicy).
	dataPlaneRole = "mission-control-data-plane"
	// DefaultDatabaseNamespace is the namespace a first registration covers when
	// --database-namespaces is not given.
	DefaultDatabaseNamespace = "default"
)

// DefaultTokenLifetime is how long a registration's token is valid: re-run mcctl register
// before it ends to issue a new one.
const DefaultTokenLifetime = 365 * 24 * time.Hour

// Endpoint is one side of a registration: a kubeconfig context and the namespace mission-control
// runs in there.
type Endpoint struct {
	// Kubeconfig is a path; empty means $KUBECONFIG (several files allowed), then ~/.kube/config.
	Kubeconfig string
	Context    string
	Namespace  string
}

// Options describe a registration.
type Options struct {
	// Source is the data plane that grants access; Dest the control plane that receives it.
	Source, Dest Endpoint
	// Name is the ClientConfig's name on the control plane; empty means the source context in
	// DNS form (DP_WEST -> dp-west).
	Name string
	// SourceServer overrides the API address the control plane uses to reach the source.
	SourceServer string
	// TokenLifetime is how long the token stays valid; zero means DefaultTokenLifetime.
	TokenLifetime time.Duration
	// Timeout bounds each check of a cluster; zero means 10s.
	Timeout time.Duration
	// DatabaseNamespaces are the data plane's namespaces the control plane may place clusters in
	// (the namespaces of its MissionControlClusters): the credential's Role is granted there only.
	// Empty means those the registration covers already, or DefaultDatabaseNamespace.
	DatabaseNamespaces []string
	// InsecureSkipTLSVerify lets mcctl reach a source whose kubeconfig skips TLS verification.
	// The control plane's kubeconfig verifies the data plane with the CA it publishes all the same.
	InsecureSkipTLSVerify bool
	// Warn receives warnings (e.g. a loopback server address); nil drops them.
	Warn func(string)
}

// Result is what a registration wrote.
type Result struct {
	Name, Server   string
	TokenExpiresAt time.Time
	// ServiceAccount is the control plane's identity on the data plane, as namespace/name.
	ServiceAccount string
	// Namespaces are the data plane's namespaces the credential may act in.
	Namespaces []string
	// Revoked counts the earlier tokens of this control plane that were revoked.
	Revoked int
	// SourceNodes and DestNodes count each side's nodes peering with the other's over BGP.
	SourceNodes, DestNodes int
}

// cluster is a connected side.
type cluster struct {
	Endpoint
	config *rest.Config
	client client.Client
	// server is the API address as the kubeconfig names it.
	server string
}

// names are the objects of one registration.
type names struct {
	clientConfig, configSecret string // on the control plane
	serviceAccount, access     string // on the data plane: the identity, its Roles' and policy's name
	legacyBinding              string // the ClusterRoleBinding registrations made before namespaced Roles
	controlPlane               string // the dest context in DNS form
}

func (o Options) names() names {
	cp := contract.NormalizeContext(o.Dest.Context)
	name := o.Name
	if name == "" {
		name = contract.NormalizeContext(o.Source.Context)
	}
	sa := "control-plane-" + cp
	return names{clientConfig: name, configSecret: name + "-config", serviceAccount: sa, access: dataPlaneRole + "-" + cp,
		legacyBinding: fmt.Sprintf("%s-%s-%s", dataPlaneRole, o.Source.Namespace, sa), controlPlane: cp}
}

func (o *Options) defaults() {
	for _, e := range []*Endpoint{&o.Source, &o.Dest} {
		if e.Namespace == "" {
			e.Namespace = contract.Namespace
		}
	}
	if o.TokenLifetime == 0 {
		o.TokenLifetime = DefaultTokenLifetime
	}
	if o.Timeout == 0 {
		o.Timeout = 10 * time.Second
	}
	if o.Warn == nil {
		o.Warn = func(string) {}
	}
}

// validate checks the flags alone.
func (o Options) validate() error {
	switch {
	case o.Source.Context == "" || o.Dest.Context == "":
		return errors.New("--source-context and --dest-context are required: name the data plane's and the control plane's kubeconfig contexts, e.g. --source-context DP_WEST --dest-context CP_EAST")
	case o.Source.Context == o.Dest.Context && o.Source.Kubeconfig == o.Dest.Kubeconfig:
		return fmt.Errorf("--source-context and --dest-context both name %s: a cluster cannot register with itself; name the data plane as the source and the control plane as the dest", o.Source.Context)
	case o.names().clientConfig == "":
		return fmt.Errorf("--source-context %q has no letters or digits to name the registration: pass --name", o.Source.Context)
	}
	for _, ns := range o.DatabaseNamespaces {
		if errs := validation.IsDNS1123Label(ns); len(errs) > 0 {
			return fmt.Errorf("--database-namespaces: %q is not a namespace name (%s): list the data plane's namespaces for MissionControlClusters, e.g. --database-namespaces db,default", ns, errs[0])
		}
	}
	if o.SourceServer != "" {
		if u, err := url.Parse(o.SourceServer); err != nil || u.Scheme != "https" || u.Host == "" {
			return fmt.Errorf("--source-server %q is not an https URL: pass the address the control plane reaches the data plane's API at, e.g. https://10.1.2.3:6443", o.SourceServer)
		}
	}
	return nil
}

// connect loads a side's context and checks that it answers and runs mission-control in the
// expected mode: a control plane runs the mission-control-operator, a data plane
// k8ssandra-operator.
func connect(ctx context.Context, e Endpoint, role, flag string, timeout time.Duration, insecureOK bool) (*cluster, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if e.Kubeconfig != "" {
		rules.ExplicitPath = e.Kubeconfig
	}
	loader := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: e.Context})
	raw, err := loader.RawConfig()
	if err != nil {
		return nil, fmt.Errorf("read the kubeconfig for %s: %w", flag, err)
	}
	kctx, ok := raw.Contexts[e.Context]
	if !ok {
		return nil, fmt.Errorf("%s %s: no such context in the kubeconfig (%s): list them with kubectl config get-contexts", flag, e.Context, kubeconfigSource(e.Kubeconfig))
	}
	if kc := raw.Clusters[kctx.Cluster]; kc != nil && kc.InsecureSkipTLSVerify && !insecureOK {
		return nil, fmt.Errorf("%s %s: its kubeconfig skips verifying the API server (insecure-skip-tls-verify), so a credential sent there could go to anyone: give the cluster its CA (certificate-authority-data), or pass --insecure-skip-tls-verify to accept that for this run", flag, e.Context)
	}
	cfg, err := loader.ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", flag, e.Context, err)
	}
	cfg = rest.CopyConfig(cfg)
	cfg.Timeout = timeout
	c, err := client.New(cfg, client.Options{Scheme: clientgoscheme.Scheme})
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", flag, e.Context, err)
	}
	cl := &cluster{Endpoint: e, config: cfg, client: c}
	if kc := raw.Clusters[kctx.Cluster]; kc != nil {
		cl.server = kc.Server
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", flag, e.Context, err)
	}
	if _, err := dc.ServerVersion(); err != nil {
		return nil, fmt.Errorf("%s %s: the API server at %s does not answer (%v): check that the cluster runs and the kubeconfig's address is reachable from here", flag, e.Context, cfg.Host, err)
	}
	var ns corev1.Namespace
	if err := c.Get(ctx, client.ObjectKey{Name: e.Namespace}, &ns); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("%s %s has no namespace %s: install mission-control there first (mission-control install --mode %s), or name its namespace with --%s-namespace", flag, e.Context, e.Namespace, role, flagSide(flag))
		}
		return nil, fmt.Errorf("%s %s: read namespace %s: %w", flag, e.Context, e.Namespace, err)
	}
	deployment, crd := contract.MissionControlOperator, "missioncontrolclusters.missioncontrol.datastax.com"
	if role == "data-plane" {
		deployment, crd = contract.K8ssandraOperator, "k8ssandraclusters.k8ssandra.io"
	}
	var u unstructured.Unstructured
	u.SetAPIVersion("apps/v1")
	u.SetKind("Deployment")
	if err := c.Get(ctx, client.ObjectKey{Namespace: e.Namespace, Name: deployment}, &u); err != nil {
		return nil, fmt.Errorf("%s %s is not a mission-control %s: no %s in namespace %s (%v); install it with mission-control install --mode %s", flag, e.Context, role, deployment, e.Namespace, apierrors.ReasonForError(err), role)
	}
	u = unstructured.Unstructured{}
	u.SetAPIVersion("apiextensions.k8s.io/v1")
	u.SetKind("CustomResourceDefinition")
	if err := c.Get(ctx, client.ObjectKey{Name: crd}, &u); err != nil {
		return nil, fmt.Errorf("%s %s lacks the CRD %s (%v): install mission-control there with --mode %s", flag, e.Context, crd, apierrors.ReasonForError(err), role)
	}
	return cl, nil
}

func kubeconfigSource(path string) string {
	if path != "" {
		return path
	}
	if env := os.Getenv(clientcmd.RecommendedConfigPathEnvVar); env != "" {
		return "$KUBECONFIG=" + env
	}
	return clientcmd.RecommendedHomeFile
}

func flagSide(flag string) string {
	if flag == "--source-context" {
		return "source"
	}
	return "dest"
}

// connectBoth connects both sides and refuses two contexts that reach the same API server.
func connectBoth(ctx context.Context, o Options) (src, dst *cluster, err error) {
	if src, err = connect(ctx, o.Source, "data-plane", "--source-context", o.Timeout, o.InsecureSkipTLSVerify); err != nil {
		return nil, nil, err
	}
	if dst, err = connect(ctx, o.Dest, "control-plane", "--dest-context", o.Timeout, o.InsecureSkipTLSVerify); err != nil {
		return nil, nil, err
	}
	for _, c := range []*cluster{src, dst} {
		if c.config.Insecure {
			o.Warn(fmt.Sprintf("--insecure-skip-tls-verify: mcctl does not verify the API server of %s (%s); anyone between you and it could read what is sent", c.Context, c.config.Host))
		}
	}
	if src.config.Host == dst.config.Host {
		return nil, nil, fmt.Errorf("--source-context %s and --dest-context %s reach the same API server (%s): a cluster cannot register with itself", o.Source.Context, o.Dest.Context, src.config.Host)
	}
	return src, dst, nil
}

// checkRanges refuses clusters whose address ranges overlap: registered clusters' pods reach each
// other by pod IP, which needs each one's pod range apart from the other's pods and Services. It
// returns each side's pod range.
func checkRanges(ctx context.Context, src, dst *cluster) (srcPods, dstPods netip.Prefix, err error) {
	type span struct {
		flag, context, what string
		prefix              netip.Prefix
	}
	var spans [2][]span
	for i, side := range []struct {
		c    *cluster
		flag string
	}{{src, "--source-context"}, {dst, "--dest-context"}} {
		var cm corev1.ConfigMap
		err := side.c.client.Get(ctx, client.ObjectKey{Namespace: metav1.NamespaceSystem, Name: contract.ClusterFacts}, &cm)
		if apierrors.IsNotFound(err) {
			return netip.Prefix{}, netip.Prefix{}, fmt.Errorf("%s %s has no %s/%s ConfigMap, where mission-control records its ranges: install it with this version of mission-control", side.flag, side.c.Context, metav1.NamespaceSystem, contract.ClusterFacts)
		}
		if err != nil {
			return netip.Prefix{}, netip.Prefix{}, fmt.Errorf("%s %s: read its ranges: %w", side.flag, side.c.Context, err)
		}
		for _, r := range []struct{ what, cidr string }{{"pod range", cm.Data[contract.PodCIDRKey]}, {"service range", cm.Data[contract.ServiceCIDRKey]}} {
			prefix, err := netip.ParsePrefix(r.cidr)
			if err != nil {
				return netip.Prefix{}, netip.Prefix{}, fmt.Errorf("%s %s: its %s %q: %w", side.flag, side.c.Context, r.what, r.cidr, err)
			}
			spans[i] = append(spans[i], span{side.flag, side.c.Context, r.what, prefix})
		}
	}
	for _, a := range spans[0] {
		for _, b := range spans[1] {
			if a.what == "service range" && b.what == "service range" {
				continue // each cluster's Services stay its own
			}
			if a.prefix.Overlaps(b.prefix) {
				return netip.Prefix{}, netip.Prefix{}, fmt.Errorf("%s %s's %s %s overlaps %s %s's %s %s: registered clusters reach each other's pods by address, so their ranges must be apart; reset one and install it again with another --cidr",
					a.flag, a.context, a.what, a.prefix, b.flag, b.context, b.what, b.prefix)
			}
		}
	}
	return spans[0][0].prefix, spans[1][0].prefix, nil
}

// Register grants the control plane access to the data plane and records it on the control
// plane. It is idempotent: a re-run issues a fresh token and rewrites the server and CA. When
// writing on the control plane fails, what this run created on the data plane is removed.
func Register(ctx context.Context, o Options) (Result, error) {
	o.defaults()
	if err := o.validate(); err != nil {
		return Result{}, err
	}
	src, dst, err := connectBoth(ctx, o)
	if err != nil {
		return Result{}, err
	}
	srcPods, dstPods, err := checkRanges(ctx, src, dst)
	if err != nil {
		return Result{}, err
	}
	n := o.names()
	// Each side as the other names it: the registration's name, and the control plane's context.
	sides := [2]peerSide{{c: src, flag: "--source-context", key: n.clientConfig, peer: contract.Peer{PodCIDR: srcPods}},
		{c: dst, flag: "--dest-context", key: n.controlPlane, peer: contract.Peer{PodCIDR: dstPods}}}
	for i := range sides {
		if sides[i].peer.Nodes, err = nodeAddresses(ctx, sides[i].c); err != nil {
			return Result{}, fmt.Errorf("%s %s: %w", sides[i].flag, sides[i].c.Context, err)
		}
	}
	for i := range sides {
		if err := checkPeers(ctx, sides[1-i], sides[i]); err != nil {
			return Result{}, err
		}
	}
	server := o.SourceServer
	if server == "" {
		server = src.server
		if isLoopback(server) {
			o.Warn(fmt.Sprintf("the data plane's API address in your kubeconfig is %s, which a control plane on another host cannot reach: pass --source-server with an address it can", server))
		}
	}
	caData, err := caOf(ctx, src)
	if err != nil {
		return Result{}, fmt.Errorf("--source-context %s: %w", o.Source.Context, err)
	}
	namespaces, err := databaseNamespaces(ctx, dst, n, o.DatabaseNamespaces)
	if err != nil {
		return Result{}, err
	}

	created, err := grant(ctx, src, n, namespaces)
	undo := func() {
		for i := len(created) - 1; i >= 0; i-- {
			_ = client.IgnoreNotFound(src.client.Delete(context.WithoutCancel(ctx), created[i]))
		}
	}
	if err != nil {
		undo()
		return Result{}, err
	}
	token, expires, err := issueToken(ctx, src, n, created[0].(*corev1.Secret), o.TokenLifetime)
	if err != nil {
		undo()
		return Result{}, err
	}
	kubeconfig, err := kubeconfigFor(o.Source.Context, server, caData, token)
	if err != nil {
		undo()
		return Result{}, err
	}
	if err := verifyCredential(ctx, kubeconfig, o.Source.Context, namespaces[0], o.Timeout); err != nil {
		undo()
		return Result{}, fmt.Errorf("the new credential does not work against --source-context %s at %s: %w", o.Source.Context, server, err)
	}
	if err := record(ctx, dst, n, o.Source.Context, namespaces, kubeconfig); err != nil {
		undo()
		return Result{}, fmt.Errorf("--dest-context %s: %w (nothing was left on the data plane)", o.Dest.Context, err)
	}
	// The control plane holds the new token: the earlier ones, and the Roles of namespaces no
	// longer covered, go.
	revoked, err := revoke(ctx, src, n, created[0].GetName(), namespaces)
	if err != nil {
		return Result{}, fmt.Errorf("registered, but %w; run mcctl register again", err)
	}
	if err := connectPods(ctx, sides); err != nil {
		return Result{}, fmt.Errorf("registered, but the clusters' pods do not reach each other yet: %w; run mcctl register again", err)
	}
	return Result{Name: n.clientConfig, Server: server, TokenExpiresAt: expires, ServiceAccount: o.Source.Namespace + "/" + n.serviceAccount,
		Namespaces: namespaces, Revoked: revoked, SourceNodes: len(sides[0].peer.Nodes), DestNodes: len(sides[1].peer.Nodes)}, nil
}

// databaseNamespaces are the namespaces a registration covers: those asked for, else those it
// covers already, else DefaultDatabaseNamespace.
func databaseNamespaces(ctx context.Context, dst *cluster, n names, asked []string) ([]string, error) {
	if len(asked) > 0 {
		return contract.ParseNamespaces(strings.Join(asked, ",")), nil
	}
	cc := &unstructured.Unstructured{}
	cc.SetGroupVersionKind(contract.ClientConfigGVK)
	err := dst.client.Get(ctx, client.ObjectKey{Namespace: dst.Namespace, Name: n.clientConfig}, cc)
	switch {
	case err == nil:
		if have := contract.ParseNamespaces(cc.GetAnnotations()[contract.NamespacesAnnotation]); len(have) > 0 {
			return have, nil
		}
	case !apierrors.IsNotFound(err):
		return nil, fmt.Errorf("--dest-context %s: read ClientConfig %s/%s: %w", dst.Context, dst.Namespace, n.clientConfig, err)
	}
	return []string{DefaultDatabaseNamespace}, nil
}

// accessLabels mark the data plane's objects that give one control plane its access.
func accessLabels(n names) map[string]string {
	return map[string]string{labelManagedBy: managedBy, labelControlPlane: n.controlPlane}
}

// grant makes the data plane's side: a new Secret for the token to be bound to (first of what
// it returns), the service account, the namespaces the registration covers, a Role of
// DataPlaneRules and its binding in each, and the admission policy that keeps the service account
// to the operator's own Secrets. It returns the objects it created (not those that existed).
func grant(ctx context.Context, src *cluster, n names, namespaces []string) ([]client.Object, error) {
	labels := accessLabels(n)
	user := serviceaccount.MakeUsername(src.Namespace, n.serviceAccount)
	policy, policyBinding := contract.DataPlaneSecretPolicy(n.access, user)
	policy.Labels, policyBinding.Labels = labels, labels
	tokenLabels := maps.Clone(labels)
	tokenLabels[labelToken] = n.serviceAccount
	objs := []client.Object{
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{GenerateName: n.serviceAccount + "-token-", Namespace: src.Namespace, Labels: tokenLabels,
			Annotations: map[string]string{"missioncontrol.datastax.com/purpose": "the control plane's token is bound to this Secret: deleting it revokes the token"}}},
		&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: n.serviceAccount, Namespace: src.Namespace, Labels: labels}},
		policy, policyBinding,
	}
	for _, ns := range namespaces {
		objs = append(objs,
			&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: map[string]string{labelManagedBy: managedBy}}},
			&rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: n.access, Namespace: ns, Labels: labels}, Rules: contract.DataPlaneRules()},
			&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: n.access, Namespace: ns, Labels: labels},
				RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: n.access},
				Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: n.serviceAccount, Namespace: src.Namespace}}})
	}
	var created []client.Object
	for _, obj := range objs {
		err := src.client.Create(ctx, obj)
		switch {
		case err == nil:
			created = append(created, obj)
		case apierrors.IsAlreadyExists(err):
			err = nil
			switch obj.(type) {
			case *rbacv1.Role, *admissionregistrationv1.ValidatingAdmissionPolicy: // keep the rules current
				err = src.client.Patch(ctx, obj, client.Merge)
			}
		}
		if err != nil {
			return created, fmt.Errorf("--source-context %s: create %s %s: %w", src.Context, kindOf(obj), describe(obj), err)
		}
	}
	return created, nil
}

// kindOf names an object's kind; typed objects carry none until the scheme sets it.
func kindOf(obj client.Object) string {
	if gvk, err := apiutil.GVKForObject(obj, clientgoscheme.Scheme); err == nil {
		return gvk.Kind
	}
	return fmt.Sprintf("%T", obj)
}

// revoke removes what gave the control plane access beyond the registration just written: the
// Secrets of its earlier tokens (which revokes them), its Roles and bindings in namespaces no
// longer covered, and a binding to the cluster-wide role registrations made before. keep is the
// current token's Secret; nil namespaces revoke everything. It returns how many tokens it revoked
// (an earlier registration's fixed-name token Secret, when there was one, is deleted uncounted).
func revoke(ctx context.Context, src *cluster, n names, keep string, namespaces []string) (int, error) {
	var tokens corev1.SecretList
	if err := src.client.List(ctx, &tokens, client.InNamespace(src.Namespace), client.MatchingLabels{labelToken: n.serviceAccount}); err != nil {
		return 0, fmt.Errorf("--source-context %s: list the token Secrets of %s: %w", src.Context, n.serviceAccount, err)
	}
	var stale []client.Object
	for i := range tokens.Items {
		if tokens.Items[i].Name != keep {
			stale = append(stale, &tokens.Items[i])
		}
	}
	revoked := len(stale)
	var bindings rbacv1.RoleBindingList
	var roles rbacv1.RoleList
	for _, l := range []client.ObjectList{&bindings, &roles} {
		if err := src.client.List(ctx, l, client.MatchingLabels(accessLabels(n))); err != nil {
			return 0, fmt.Errorf("--source-context %s: list the Roles of %s: %w", src.Context, n.serviceAccount, err)
		}
	}
	for i := range bindings.Items {
		if !slices.Contains(namespaces, bindings.Items[i].Namespace) {
			stale = append(stale, &bindings.Items[i])
		}
	}
	for i := range roles.Items {
		if !slices.Contains(namespaces, roles.Items[i].Namespace) {
			stale = append(stale, &roles.Items[i])
		}
	}
	if namespaces == nil {
		policy, binding := contract.DataPlaneSecretPolicy(n.access, "")
		stale = append(stale, binding, policy,
			&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: n.serviceAccount, Namespace: src.Namespace}})
	}
	// What registrations made before namespaced Roles: a cluster-wide binding, and a token Secret
	// of a fixed name (unlabelled), whose token goes with it.
	stale = append(stale, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: n.legacyBinding}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: n.serviceAccount + "-token", Namespace: src.Namespace}})
	for _, obj := range stale {
		if err := client.IgnoreNotFound(src.client.Delete(ctx, obj)); err != nil {
			return 0, fmt.Errorf("--source-context %s: delete %s %s: %w", src.Context, kindOf(obj), describe(obj), err)
		}
	}
	// The cluster-wide role of earlier registrations goes with the last binding to it.
	var legacy rbacv1.ClusterRoleBindingList
	if err := src.client.List(ctx, &legacy, client.MatchingLabels{labelManagedBy: managedBy}); err != nil {
		return 0, fmt.Errorf("--source-context %s: list role bindings: %w", src.Context, err)
	}
	if len(legacy.Items) == 0 {
		role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: dataPlaneRole}}
		if err := client.IgnoreNotFound(src.client.Delete(ctx, role)); err != nil {
			return 0, fmt.Errorf("--source-context %s: delete ClusterRole %s: %w", src.Context, dataPlaneRole, err)
		}
	}
	return revoked, nil
}

func describe(obj client.Object) string {
	if obj.GetNamespace() == "" {
		return obj.GetName()
	}
	return obj.GetNamespace() + "/" + obj.GetName()
}

// issueToken requests a token for the service account, bound to secret so that deleting the
// Secret revokes it.
func issueToken(ctx context.Context, src *cluster, n names, secret *corev1.Secret, lifetime time.Duration) (string, time.Time, error) {
	seconds := int64(lifetime.Seconds())
	tr := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{
		ExpirationSeconds: &seconds,
		BoundObjectRef:    &authenticationv1.BoundObjectReference{Kind: "Secret", APIVersion: "v1", Name: secret.Name, UID: secret.UID},
	}}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: n.serviceAccount, Namespace: src.Namespace}}
	if err := src.client.SubResource("token").Create(ctx, sa, tr); err != nil {
		return "", time.Time{}, fmt.Errorf("--source-context %s: request a token for %s/%s: %w", src.Context, src.Namespace, n.serviceAccount, err)
	}
	return tr.Status.Token, tr.Status.ExpirationTimestamp.Time, nil
}

// caOf is the CA the control plane verifies the data plane's API server with: the kubeconfig's,
// or, when that skips verification, the one the cluster publishes in every namespace
// (kube-root-ca.crt). Empty means the system roots.
func caOf(ctx context.Context, src *cluster) ([]byte, error) {
	switch cfg := src.config; {
	case cfg.Insecure:
		var cm corev1.ConfigMap
		if err := src.client.Get(ctx, client.ObjectKey{Namespace: src.Namespace, Name: "kube-root-ca.crt"}, &cm); err != nil {
			return nil, fmt.Errorf("read the CA the cluster publishes (ConfigMap %s/kube-root-ca.crt), which the control plane verifies it with since the kubeconfig does not: %w", src.Namespace, err)
		}
		return []byte(cm.Data["ca.crt"]), nil
	case len(cfg.CAData) > 0:
		return cfg.CAData, nil
	case cfg.CAFile != "":
		data, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("read the API server's CA: %w", err)
		}
		return data, nil
	}
	return nil, nil
}

// kubeconfigFor is the kubeconfig the control plane reaches the data plane with; its one context
// is named like the data plane's, as k8ssandra expects.
func kubeconfigFor(contextName, server string, caData []byte, token string) ([]byte, error) {
	kc := clientcmdapi.NewConfig()
	kc.Clusters[contextName] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: caData}
	kc.AuthInfos[contextName] = &clientcmdapi.AuthInfo{Token: token}
	kc.Contexts[contextName] = &clientcmdapi.Context{Cluster: contextName, AuthInfo: contextName}
	kc.CurrentContext = contextName
	return clientcmd.Write(*kc)
}

// verifyCredential checks, with the kubeconfig the control plane will use, read as the operator
// reads it, that the data plane lets it write K8ssandraClusters in namespace.
func verifyCredential(ctx context.Context, kubeconfig []byte, contextName, namespace string, timeout time.Duration) error {
	cfg, err := kube.RegistrationRESTConfig(kubeconfig, contract.IsContext(contextName), timeout)
	if err != nil {
		return err
	}
	c, err := client.New(cfg, client.Options{})
	if err != nil {
		return err
	}
	review := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
		ResourceAttributes: &authorizationv1.ResourceAttributes{Group: "k8ssandra.io", Resource: "k8ssandraclusters", Verb: "create", Namespace: namespace}}}
	if err := c.Create(ctx, review); err != nil {
		return err
	}
	if !review.Status.Allowed {
		return fmt.Errorf("not allowed to create K8ssandraClusters in namespace %s (%s)", namespace, review.Status.Reason)
	}
	// The admission policy is in force only once the API server has loaded it: the control plane
	// gets the credential after a Secret not the operator's is refused to it (a dry run).
	var last error
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		probe := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, GenerateName: "mission-control-probe-"}}
		last = c.Create(ctx, probe, client.DryRunAll)
		return last != nil && strings.Contains(last.Error(), "ValidatingAdmissionPolicy"), nil
	})
	switch {
	case err != nil && last == nil:
		return errors.New("the admission policy that keeps it to the operator's Secrets is not in force: a Secret not the operator's was accepted")
	case err != nil:
		return fmt.Errorf("the admission policy that keeps it to the operator's Secrets could not be checked: %w", last)
	}
	return nil
}

// record writes the control plane's side: the kubeconfig Secret and the ClientConfig.
func record(ctx context.Context, dst *cluster, n names, sourceContext string, namespaces []string, kubeconfig []byte) error {
	labels := map[string]string{labelManagedBy: managedBy, labelDataPlane: n.clientConfig}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: n.configSecret, Namespace: dst.Namespace, Labels: labels},
		Data: map[string][]byte{contract.KubeconfigKey: kubeconfig}}
	if err := upsert(ctx, dst.client, secret); err != nil {
		return fmt.Errorf("write Secret %s/%s: %w", dst.Namespace, n.configSecret, err)
	}
	cc := &unstructured.Unstructured{Object: map[string]any{"spec": map[string]any{
		"contextName": sourceContext, "kubeConfigSecret": map[string]any{"name": n.configSecret}}}}
	cc.SetGroupVersionKind(contract.ClientConfigGVK)
	cc.SetNamespace(dst.Namespace)
	cc.SetName(n.clientConfig)
	cc.SetLabels(labels)
	cc.SetAnnotations(map[string]string{contract.NamespacesAnnotation: strings.Join(namespaces, ",")})
	if err := upsert(ctx, dst.client, cc); err != nil {
		return fmt.Errorf("write ClientConfig %s/%s: %w", dst.Namespace, n.clientConfig, err)
	}
	return nil
}

// upsert creates obj or replaces the existing one's contents with it.
func upsert(ctx context.Context, c client.Client, obj client.Object) error {
	err := c.Create(ctx, obj)
	if !apierrors.IsAlreadyExists(err) {
		return err
	}
	existing := obj.DeepCopyObject().(client.Object)
	if err := c.Get(ctx, client.ObjectKeyFromObject(obj), existing); err != nil {
		return err
	}
	obj.SetResourceVersion(existing.GetResourceVersion())
	return c.Update(ctx, obj)
}

func isLoopback(server string) bool {
	u, err := url.Parse(server)
	if err != nil {
		return false
	}
	if u.Hostname() == "localhost" {
		return true
	}
	ip := net.ParseIP(u.Hostname())
	return ip != nil && ip.IsLoopback()
}

// Deregister removes a registration from both sides. Objects already gone are fine.
func Deregister(ctx context.Context, o Options) error {
	o.defaults()
	if err := o.validate(); err != nil {
		return err
	}
	src, dst, err := connectBoth(ctx, o)
	if err != nil {
		return err
	}
	n := o.names()
	if err := checkUnused(ctx, dst, n, o); err != nil {
		return err
	}
	sides := [2]peerSide{{c: src, flag: "--source-context", key: n.clientConfig}, {c: dst, flag: "--dest-context", key: n.controlPlane}}
	if err := disconnectPods(ctx, sides); err != nil {
		return err
	}
	cc := &unstructured.Unstructured{}
	cc.SetGroupVersionKind(contract.ClientConfigGVK)
	cc.SetNamespace(dst.Namespace)
	cc.SetName(n.clientConfig)
	for _, obj := range []client.Object{cc, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: n.configSecret, Namespace: dst.Namespace}}} {
		if err := client.IgnoreNotFound(dst.client.Delete(ctx, obj)); err != nil {
			return fmt.Errorf("--dest-context %s: delete %s: %w", o.Dest.Context, describe(obj), err)
		}
	}
	if _, err := revoke(ctx, src, n, "", nil); err != nil {
		return err
	}
	return nil
}

// checkUnused refuses to deregister a data plane that a MissionControlCluster on the control
// plane still uses: one of its datacenters names it, or it still has a K8ssandraCluster there
// (status.targets) to clean up. Its datacenters would be cut off from the control plane, and its
// pods from the other clusters' pods.
func checkUnused(ctx context.Context, dst *cluster, n names, o Options) error {
	dataPlane := o.Source.Context
	cc := &unstructured.Unstructured{}
	cc.SetGroupVersionKind(contract.ClientConfigGVK)
	if err := dst.client.Get(ctx, client.ObjectKey{Namespace: dst.Namespace, Name: n.clientConfig}, cc); err == nil {
		if name, _, _ := unstructured.NestedString(cc.Object, "spec", "contextName"); name != "" {
			dataPlane = name
		}
	}
	key := contract.NormalizeContext(dataPlane)
	list := &unstructured.UnstructuredList{}
	list.SetGroupVersionKind(contract.MissionControlClusterGVK.GroupVersion().WithKind(contract.MissionControlClusterGVK.Kind + "List"))
	if err := dst.client.List(ctx, list); err != nil {
		return fmt.Errorf("--dest-context %s: list MissionControlClusters: %w", o.Dest.Context, err)
	}
	var users []string
	for _, mcc := range list.Items {
		dcs, _, _ := unstructured.NestedSlice(mcc.Object, "spec", "k8ssandra", "cassandra", "datacenters")
		var names []string
		for _, dc := range dcs {
			m, _ := dc.(map[string]any)
			dcContext, _, _ := unstructured.NestedString(m, "k8sContext")
			if dcContext != "" && contract.NormalizeContext(dcContext) == key {
				name, _, _ := unstructured.NestedString(m, "metadata", "name")
				names = append(names, name)
			}
		}
		targets, _, _ := unstructured.NestedStringSlice(mcc.Object, "status", "targets")
		switch {
		case len(names) > 0:
			users = append(users, fmt.Sprintf("%s/%s (datacenter %s)", mcc.GetNamespace(), mcc.GetName(), strings.Join(names, ", ")))
		case slices.Contains(targets, key):
			users = append(users, fmt.Sprintf("%s/%s (its K8ssandraCluster there is not cleaned up yet)", mcc.GetNamespace(), mcc.GetName()))
		}
	}
	if len(users) > 0 {
		return fmt.Errorf("%s is still used by MissionControlCluster %s: delete it, or move its datacenters off %s, then deregister", dataPlane, strings.Join(users, ", "), dataPlane)
	}
	return nil
}

// DataPlane is a registration as the control plane sees it.
type DataPlane struct {
	Name    string `json:"name"`
	Context string `json:"context"`
	Server  string `json:"server"`
	// Reachable reports whether the registration's credential reaches the data plane now; Error
	// says why not.
	Reachable bool   `json:"reachable"`
	Error     string `json:"error,omitempty"`
	// Namespaces are the data plane's namespaces the registration covers.
	Namespaces []string `json:"namespaces"`
	// TokenExpires is when the registration's token ends (its exp claim), when it can be read.
	TokenExpires *time.Time `json:"tokenExpires,omitempty"`
}

// List returns the data planes registered with a control plane, by name, and whether each
// answers, reaching each as the mission-control-operator does.
func List(ctx context.Context, dest Endpoint, timeout time.Duration) ([]DataPlane, error) {
	if dest.Context == "" {
		return nil, errors.New("--dest-context is required: name the control plane's kubeconfig context, e.g. --dest-context CP_EAST")
	}
	o := Options{Dest: dest, Timeout: timeout}
	o.defaults()
	dst, err := connect(ctx, o.Dest, "control-plane", "--dest-context", o.Timeout, false)
	if err != nil {
		return nil, err
	}
	regs, err := contract.Registrations(ctx, dst.client, dst.Namespace)
	if err != nil {
		return nil, fmt.Errorf("--dest-context %s: %w", dest.Context, err)
	}
	out := []DataPlane{}
	for _, reg := range regs {
		d := DataPlane{Name: reg.Name, Context: reg.Context, Namespaces: reg.Namespaces}
		if err := reach(ctx, dst, reg, &d, o.Timeout); err != nil {
			d.Error = err.Error()
		}
		d.Reachable = d.Error == ""
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b DataPlane) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// reach reads a registration's kubeconfig, records its server and its token's expiry in d, and
// asks the data plane who the credential is (a SelfSubjectReview, which every authenticated user
// may make: it proves the token is accepted without needing any other right).
func reach(ctx context.Context, dst *cluster, reg contract.Registration, d *DataPlane, timeout time.Duration) error {
	kubeconfig, _, err := reg.Kubeconfig(ctx, dst.client, dst.Namespace)
	if err != nil {
		return err
	}
	cfg, err := kube.RegistrationRESTConfig(kubeconfig, contract.IsContext(reg.Context), 0)
	if err != nil {
		return fmt.Errorf("kubeconfig Secret %s of ClientConfig %s: %w", reg.Secret, reg.Name, err)
	}
	d.Server = cfg.Host
	if exp, err := tokenExpiry(cfg.BearerToken); err == nil {
		d.TokenExpires = &exp
	}
	cfg.Timeout = timeout
	c, err := client.New(cfg, client.Options{Scheme: clientgoscheme.Scheme})
	if err != nil {
		return err
	}
	return c.Create(ctx, &authenticationv1.SelfSubjectReview{})
}

// tokenExpiry reads a service account token's exp claim. The signature is not checked: the data
// plane checks it; this only shows when the token ends.
func tokenExpiry(token string) (time.Time, error) {
	parsed, err := jwt.ParseSigned(token, []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
	if err != nil {
		return time.Time{}, err
	}
	var claims jwt.Claims
	if err := parsed.UnsafeClaimsWithoutVerification(&claims); err != nil {
		return time.Time{}, err
	}
	if claims.Expiry == nil {
		return time.Time{}, errors.New("the token has no expiry")
	}
	return claims.Expiry.Time(), nil
}
