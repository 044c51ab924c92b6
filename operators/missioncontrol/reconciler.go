package missioncontrol

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"github.com/datastax/mission-control/internal/contract"
	"github.com/datastax/mission-control/internal/kube"
	"github.com/datastax/mission-control/operators/missioncontrol/api/v1beta1"
)

// Reconciler turns MissionControlClusters into K8ssandraClusters in the clusters their
// datacenters name, and reports their state back (see desired.go for the design). It never calls
// a data plane's operators: it writes and reads custom resources, Secrets and pods only.
type Reconciler struct {
	// Client reads and writes MissionControlClusters and their CA and superuser Secrets on the
	// control plane; Local is the control plane as a target (see NewReconciler).
	Client, Local client.Client
	DataPlanes    *DataPlanes
	// LocalContext is this control plane's own context name: datacenters naming it are local.
	LocalContext string
	Now          func() time.Time
	Events       events.EventRecorder
	// PendingResync is how soon a cluster that is not ready yet is looked at again (its data
	// planes are polled, not watched); ReadyResync the same for a ready one.
	PendingResync, ReadyResync time.Duration
	// DeletionTimeout is how long a deletion waits for unreachable data planes before it gives
	// up on cleaning them and lets the MissionControlCluster go.
	DeletionTimeout time.Duration
	// Workers is how many MissionControlClusters are reconciled at once.
	Workers int

	// watched is k8ssandra-operator's WATCH_NAMESPACE as last written (see k8ssandrawatch.go).
	watchMu sync.Mutex
	watched string
}

// observed is what one reconcile found in a target.
type observed struct {
	existing *unstructured.Unstructured
	// seeds are the seed pods' addresses; pods every database pod's, seeds included.
	seeds, pods []string
	statuses    []v1beta1.DatacenterStatus
}

// pass is one reconcile of one MissionControlCluster: what it read, and found on the way.
type pass struct {
	mcc *v1beta1.MissionControlCluster
	// k8ssandra is spec.k8ssandra as written, unknown fields included.
	k8ssandra map[string]any
	planes    map[string]*DataPlane
	targets   []*target
	obs       []observed // by target
	// policy is what the spec asks of internode certificates, auth the CA that signs them, and
	// certErr why they cannot be issued.
	policy  certPolicy
	auth    authority
	certErr error
	// superuser names the shared superuser Secret ("" when there is none), superuserData its data.
	superuser     string
	superuserData map[string][]byte
	storeErrs     map[string]error // by target name
}

// Reconcile brings one MissionControlCluster's targets to its spec and records their state.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	// k8ssandra-operator's namespaces are not this cluster's own: a failure there is logged and
	// tried again at the next reconcile, and this cluster goes on.
	if err := r.syncK8ssandraWatch(ctx); err != nil {
		ctrl.LoggerFrom(ctx).Error(err, "write k8ssandra-operator's namespaces")
	}
	p, err := r.load(ctx, req)
	if p == nil || err != nil {
		return ctrl.Result{}, err
	}
	if !p.mcc.DeletionTimestamp.IsZero() {
		return r.cleanUp(ctx, p.mcc, p.k8ssandra, p.targets, p.planes)
	}
	if err := r.addFinalizer(ctx, p.mcc); err != nil {
		return ctrl.Result{}, err
	}
	before := p.mcc.Status.DeepCopy()
	if err := r.prepare(ctx, p); err != nil {
		return ctrl.Result{}, err
	}
	r.observeTargets(ctx, p)
	r.applyTargets(ctx, p)
	r.recordReachability(p.targets)
	ready := r.recordStatus(p)
	if !equality.Semantic.DeepEqual(before, &p.mcc.Status) {
		if err := r.Client.Status().Update(ctx, p.mcc); err != nil {
			if apierrors.IsConflict(err) {
				return ctrl.Result{RequeueAfter: time.Second}, nil // changed meanwhile: look again
			}
			return ctrl.Result{}, fmt.Errorf("update status of %s: %w", req.NamespacedName, err)
		}
	}
	if ready {
		return ctrl.Result{RequeueAfter: r.ReadyResync}, nil
	}
	return ctrl.Result{RequeueAfter: r.PendingResync}, nil
}

// load reads the MissionControlCluster, connects the data planes it needs and plans its
// targets. It returns nil when the MissionControlCluster is gone.
func (r *Reconciler) load(ctx context.Context, req ctrl.Request) (*pass, error) {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(v1beta1.GroupVersion.WithKind("MissionControlCluster"))
	// Read as unstructured: spec.k8ssandra keeps fields the typed API does not declare.
	if err := r.Client.Get(ctx, req.NamespacedName, u); err != nil {
		return nil, client.IgnoreNotFound(err)
	}
	p := &pass{mcc: &v1beta1.MissionControlCluster{}}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, p.mcc); err != nil {
		return nil, fmt.Errorf("read MissionControlCluster %s: %w", req.NamespacedName, err)
	}
	p.k8ssandra, _, _ = unstructured.NestedMap(u.Object, "spec", "k8ssandra")
	var err error
	if p.planes, err = r.DataPlanes.List(ctx); err != nil {
		return nil, err
	}
	for _, key := range neededContexts(p.mcc) {
		if dp := p.planes[key]; dp != nil {
			r.DataPlanes.Connect(ctx, dp)
			if unsafe := (*kube.UnsafeKubeconfigError)(nil); errors.As(dp.Err, &unsafe) && r.Events != nil {
				r.Events.Eventf(dp.registration.Object(r.DataPlanes.namespace()), nil, corev1.EventTypeWarning, "UnsafeKubeconfig", "Refused", "%s", dp.Err.Error())
			}
		}
	}
	var dcs []v1beta1.DatacenterTemplate
	if p.mcc.Spec.K8ssandra.Cassandra != nil {
		dcs = p.mcc.Spec.K8ssandra.Cassandra.Datacenters
	}
	p.targets = planTargets(dcs, p.mcc.Namespace, r.LocalContext, r.Local, p.planes)
	return p, nil
}

func (r *Reconciler) addFinalizer(ctx context.Context, mcc *v1beta1.MissionControlCluster) error {
	if controllerutil.ContainsFinalizer(mcc, finalizer) {
		return nil
	}
	patch := client.MergeFrom(mcc.DeepCopy())
	controllerutil.AddFinalizer(mcc, finalizer)
	if err := r.Client.Patch(ctx, mcc, patch); err != nil {
		return fmt.Errorf("add finalizer to %s/%s: %w", mcc.Namespace, mcc.Name, err)
	}
	return nil
}

// prepare reads or makes what every target shares: the certificate authority and the superuser
// Secret. A certificate problem is recorded in the pass, not returned: it degrades the cluster's
// status, and the rest is still reconciled.
func (r *Reconciler) prepare(ctx context.Context, p *pass) error {
	p.policy, p.certErr = certPolicyOf(p.mcc.Spec)
	if p.certErr == nil && p.policy.Issue {
		p.auth, p.certErr = r.authority(ctx, p.mcc, p.policy)
	}
	if p.superuser = superuserSecret(p.mcc, p.k8ssandra); p.superuser == "" {
		return nil
	}
	var err error
	p.superuserData, err = r.superuser(ctx, p.mcc, p.superuser)
	return err
}

// observeTargets reads every target; one that cannot be read marks only its own datacenters.
func (r *Reconciler) observeTargets(ctx context.Context, p *pass) {
	p.obs = make([]observed, len(p.targets))
	for i, t := range p.targets {
		if t.Err == nil {
			p.obs[i], t.Err = r.observe(ctx, p.mcc, p.k8ssandra, t)
		}
		if t.Err != nil {
			p.obs[i].statuses = datacenterStatuses(p.mcc, p.k8ssandra, t, nil)
		}
	}
}

// applyTargets writes the targets in order: a target's K8ssandraCluster is created only once
// every earlier target is ready with seeds, and kept up to date once it exists (see desired.go).
func (r *Reconciler) applyTargets(ctx context.Context, p *pass) {
	p.storeErrs = map[string]error{}
	earlierReady := true
	for i, t := range p.targets {
		if t.Err == nil && (p.obs[i].existing != nil || earlierReady) {
			in := desiredInput{MCC: p.mcc, K8ssandra: p.k8ssandra, Target: t, Superuser: p.superuser,
				Stores: p.certErr == nil && p.policy.Issue, Seeds: others(p.obs, i, func(o observed) []string { return o.seeds }),
				RemotePods: others(p.obs, i, func(o observed) []string { return o.pods })}
			if err := r.apply(ctx, in, p.superuserData, p.auth, p.policy, p.obs[i].existing); err != nil {
				if errors.Is(err, errStores) {
					p.storeErrs[t.name()] = err
				} else {
					t.Err = err
				}
			}
		}
		ready := t.Err == nil && len(p.obs[i].seeds) > 0
		for _, st := range p.obs[i].statuses {
			ready = ready && datacenterReady(st)
		}
		earlierReady = earlierReady && ready
	}
}

// recordStatus puts what the pass found into the status; it returns Ready.
func (r *Reconciler) recordStatus(p *pass) bool {
	mcc := p.mcc
	mcc.Status.ObservedGeneration = mcc.Generation
	mcc.Status.Datacenters = nil
	for i := range p.targets {
		mcc.Status.Datacenters = append(mcc.Status.Datacenters, p.obs[i].statuses...)
	}
	for _, t := range p.targets {
		if t.Err == nil && !slices.Contains(mcc.Status.Targets, t.Key) {
			mcc.Status.Targets = append(mcc.Status.Targets, t.Key)
		}
	}
	return r.setConditions(mcc, p.targets, p.policy, p.certErr, p.storeErrs)
}

// neededContexts are the data planes a reconcile of mcc may talk to: those its datacenters name
// and those it wrote to before (which its deletion cleans up).
func neededContexts(mcc *v1beta1.MissionControlCluster) []string {
	keys := slices.Clone(mcc.Status.Targets)
	if mcc.Spec.K8ssandra.Cassandra != nil {
		for _, dc := range mcc.Spec.K8ssandra.Cassandra.Datacenters {
			keys = append(keys, contract.NormalizeContext(dc.K8sContext))
		}
	}
	return keys
}

// errStores marks a failure to issue or write a target's internode stores.
var errStores = errors.New("internode stores")

// observe reads a target's K8ssandraCluster and seed pods. An error means the target cannot be
// reached (or read), which degrades only its datacenters.
func (r *Reconciler) observe(ctx context.Context, mcc *v1beta1.MissionControlCluster, k8ssandra map[string]any, t *target) (observed, error) {
	var o observed
	kc := &unstructured.Unstructured{}
	kc.SetGroupVersionKind(k8ssandraClusterGVK)
	err := t.Client.Get(ctx, client.ObjectKey{Namespace: mcc.Namespace, Name: mcc.Name}, kc)
	switch {
	case apierrors.IsNotFound(err):
	case err != nil:
		return o, fmt.Errorf("%s unreachable: %w", t.name(), err)
	default:
		o.existing = kc
	}
	var pods corev1.PodList
	err = t.Client.List(ctx, &pods, client.InNamespace(mcc.Namespace),
		client.MatchingLabels{labelCassCluster: cleanName(clusterName(mcc, k8ssandra))})
	if err != nil {
		return o, fmt.Errorf("%s unreachable: %w", t.name(), err)
	}
	for _, p := range pods.Items {
		if p.Status.PodIP == "" {
			continue
		}
		o.pods = append(o.pods, p.Status.PodIP)
		if p.Labels[labelSeedNode] == "true" {
			o.seeds = append(o.seeds, p.Status.PodIP)
		}
	}
	slices.Sort(o.seeds)
	slices.Sort(o.pods)
	o.statuses = datacenterStatuses(mcc, k8ssandra, t, o.existing)
	return o, nil
}

// others gathers what of returns for every target but the i-th.
func others(obs []observed, i int, of func(observed) []string) []string {
	var all []string
	for j, o := range obs {
		if j != i {
			all = append(all, of(o)...)
		}
	}
	return all
}

// apply writes a target's namespace, Secrets and K8ssandraCluster.
func (r *Reconciler) apply(ctx context.Context, in desiredInput, superuserData map[string][]byte, auth authority, policy certPolicy, existing *unstructured.Unstructured) error {
	t, mcc := in.Target, in.MCC
	if t.local() { // a data plane's namespaces are made by mcctl register, which grants the operator its rights there
		if err := ensureNamespace(ctx, t.Client, mcc.Namespace); err != nil {
			return fmt.Errorf("%s: %w", t.name(), err)
		}
	}
	if in.Superuser != "" && !t.local() {
		if err := writeSecret(ctx, t.Client, mcc, in.Superuser, superuserData); err != nil {
			return fmt.Errorf("%s: %w", t.name(), err)
		}
	}
	if in.Stores {
		issued, err := r.applyStores(ctx, in, auth, policy, existing)
		if err != nil {
			return fmt.Errorf("%w in %s: %w", errStores, t.name(), err)
		}
		in.Issued = issued
	}
	if err := applyInternodePolicy(ctx, t.Client, mcc, cleanName(clusterName(mcc, in.K8ssandra)), in.RemotePods); err != nil {
		return fmt.Errorf("%s: %w", t.name(), err)
	}
	kc, err := desiredK8ssandraCluster(in)
	if err != nil {
		return err
	}
	if err := t.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(kc), fieldOwner, client.ForceOwnership); err != nil {
		return fmt.Errorf("apply K8ssandraCluster %s/%s in %s: %w", mcc.Namespace, mcc.Name, t.name(), err)
	}
	switch {
	case existing == nil:
		r.event(mcc, corev1.EventTypeNormal, "Created", "created K8ssandraCluster %s/%s in %s", mcc.Namespace, mcc.Name, t.name())
	case existing.GetResourceVersion() != kc.GetResourceVersion() && kc.GetResourceVersion() != "":
		r.event(mcc, corev1.EventTypeNormal, "Updated", "updated K8ssandraCluster %s/%s in %s", mcc.Namespace, mcc.Name, t.name())
	}
	return nil
}

func (r *Reconciler) event(mcc *v1beta1.MissionControlCluster, kind, reason, note string, args ...any) {
	if r.Events != nil {
		r.Events.Eventf(mcc, nil, kind, reason, reason, note, args...)
	}
}

// ensureNamespace creates the namespace when the cluster lacks it; an existing one is left as is.
func ensureNamespace(ctx context.Context, c client.Client, name string) error {
	var ns corev1.Namespace
	err := c.Get(ctx, client.ObjectKey{Name: name}, &ns)
	if !apierrors.IsNotFound(err) {
		return err
	}
	ns.Name = name
	ns.Labels = map[string]string{labelManagedBy: managedBy}
	if err := c.Create(ctx, &ns); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create namespace %s: %w", name, err)
	}
	return nil
}

// writeSecret creates a Secret the operator owns for mcc, or replaces the existing one. Not by
// server-side apply: that is a patch, and a data plane grants no patch on Secrets, since a patch
// answers with the Secret's data (contract.DataPlaneRules).
func writeSecret(ctx context.Context, c client.Client, mcc *v1beta1.MissionControlCluster, name string, data map[string][]byte, owners ...metav1.OwnerReference) error {
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: mcc.Namespace, Labels: ownedLabels(mcc), OwnerReferences: owners},
		Type: corev1.SecretTypeOpaque, Data: data}
	err := c.Create(ctx, s)
	if apierrors.IsAlreadyExists(err) {
		err = c.Update(ctx, s) // unconditional: Secrets need no resourceVersion
	}
	if err != nil {
		return fmt.Errorf("write Secret %s/%s: %w", mcc.Namespace, name, err)
	}
	return nil
}

// ownerRef makes control-plane objects follow the MissionControlCluster, should the finalizer
// ever be removed by hand.
func ownerRef(mcc *v1beta1.MissionControlCluster) metav1.OwnerReference {
	return metav1.OwnerReference{APIVersion: v1beta1.GroupVersion.String(), Kind: "MissionControlCluster", Name: mcc.Name, UID: mcc.UID}
}
