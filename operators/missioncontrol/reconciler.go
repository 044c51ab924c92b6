package missioncontrol

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	"github.com/datastax/mission-control/operators/contract"
	"github.com/datastax/mission-control/operators/missioncontrol/api/v1beta1"
)

// Condition types of a MissionControlCluster.
const (
	ConditionReady               = "Ready"
	ConditionProgressing         = "Progressing"
	ConditionDegraded            = "Degraded"
	ConditionCertificatesReady   = "CertificatesReady"
	ConditionDataPlanesReachable = "DataPlanesReachable"
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
}

// observed is what one reconcile found in a target.
type observed struct {
	existing *unstructured.Unstructured
	seeds    []string
	statuses []v1beta1.DatacenterStatus
}

// Reconcile brings one MissionControlCluster's targets to its spec and records their state.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(v1beta1.GroupVersion.WithKind("MissionControlCluster"))
	// Read as unstructured: spec.k8ssandra keeps fields the typed API does not declare.
	if err := r.Client.Get(ctx, req.NamespacedName, u); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	mcc := &v1beta1.MissionControlCluster{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, mcc); err != nil {
		return ctrl.Result{}, fmt.Errorf("read MissionControlCluster %s: %w", req.NamespacedName, err)
	}
	k8ssandra, _, _ := unstructured.NestedMap(u.Object, "spec", "k8ssandra")
	planes, err := r.DataPlanes.List(ctx)
	if err != nil {
		return ctrl.Result{}, err
	}
	var dcs []v1beta1.DatacenterTemplate
	if mcc.Spec.K8ssandra.Cassandra != nil {
		dcs = mcc.Spec.K8ssandra.Cassandra.Datacenters
	}
	for _, key := range neededContexts(mcc) {
		if dp := planes[key]; dp != nil {
			r.DataPlanes.Connect(ctx, dp)
		}
	}
	targets := planTargets(dcs, r.LocalContext, r.Local, planes)
	if !mcc.DeletionTimestamp.IsZero() {
		return r.cleanUp(ctx, mcc, targets, planes)
	}
	if !controllerutil.ContainsFinalizer(mcc, finalizer) {
		patch := client.MergeFrom(mcc.DeepCopy())
		controllerutil.AddFinalizer(mcc, finalizer)
		if err := r.Client.Patch(ctx, mcc, patch); err != nil {
			return ctrl.Result{}, fmt.Errorf("add finalizer to %s: %w", req.NamespacedName, err)
		}
	}
	before := mcc.Status.DeepCopy()

	policy, certErr := certPolicyOf(mcc.Spec)
	var auth authority
	if certErr == nil && policy.Issue {
		auth, certErr = r.authority(ctx, mcc, policy)
	}
	superuser := superuserSecret(mcc, k8ssandra)
	var superuserData map[string][]byte
	if superuser != "" {
		if superuserData, err = r.superuser(ctx, mcc, superuser); err != nil {
			return ctrl.Result{}, err
		}
	}

	obs := make([]observed, len(targets))
	for i, t := range targets {
		if t.Err == nil {
			obs[i], t.Err = r.observe(ctx, mcc, k8ssandra, t)
		}
		if t.Err != nil {
			obs[i].statuses = datacenterStatuses(mcc, k8ssandra, t, nil)
		}
	}

	earlierReady := true
	storeErrs := map[string]error{}
	for i, t := range targets {
		if t.Err == nil && (obs[i].existing != nil || earlierReady) {
			in := desiredInput{MCC: mcc, K8ssandra: k8ssandra, Target: t, Superuser: superuser,
				Stores: certErr == nil && policy.Issue, Seeds: otherSeeds(obs, i)}
			if err := r.apply(ctx, in, superuserData, auth, policy, obs[i].existing); err != nil {
				if errors.Is(err, errStores) {
					storeErrs[t.name()] = err
				} else {
					t.Err = err
				}
			}
		}
		ready := t.Err == nil && len(obs[i].seeds) > 0
		for _, st := range obs[i].statuses {
			ready = ready && datacenterReady(st)
		}
		earlierReady = earlierReady && ready
	}
	r.recordReachability(targets)

	mcc.Status.ObservedGeneration = mcc.Generation
	mcc.Status.Datacenters = nil
	for i := range targets {
		mcc.Status.Datacenters = append(mcc.Status.Datacenters, obs[i].statuses...)
	}
	for _, t := range targets {
		if t.Err == nil && !slices.Contains(mcc.Status.Targets, t.Key) {
			mcc.Status.Targets = append(mcc.Status.Targets, t.Key)
		}
	}
	ready := r.setConditions(mcc, targets, policy, certErr, storeErrs)
	if !equality.Semantic.DeepEqual(before, &mcc.Status) {
		if err := r.Client.Status().Update(ctx, mcc); err != nil {
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
		client.MatchingLabels{labelCassCluster: cleanName(clusterName(mcc, k8ssandra)), labelSeedNode: "true"})
	if err != nil {
		return o, fmt.Errorf("%s unreachable: %w", t.name(), err)
	}
	for _, p := range pods.Items {
		if p.Status.PodIP != "" {
			o.seeds = append(o.seeds, p.Status.PodIP)
		}
	}
	slices.Sort(o.seeds)
	o.statuses = datacenterStatuses(mcc, k8ssandra, t, o.existing)
	return o, nil
}

// datacenterStatuses are the target's datacenters as its K8ssandraCluster reports them.
func datacenterStatuses(mcc *v1beta1.MissionControlCluster, k8ssandra map[string]any, t *target, kc *unstructured.Unstructured) []v1beta1.DatacenterStatus {
	rawDCs, _, _ := unstructured.NestedSlice(k8ssandra, "cassandra", "datacenters")
	var out []v1beta1.DatacenterStatus
	for _, i := range t.Datacenters {
		raw, _ := rawDCs[i].(map[string]any)
		resource, _ := datacenterNames(mcc, raw)
		out = append(out, datacenterStatus(kc, resource, mcc.Spec.K8ssandra.Cassandra.Datacenters[i], t))
	}
	return out
}

// otherSeeds are the seeds of every target but the i-th.
func otherSeeds(obs []observed, i int) []string {
	var seeds []string
	for j, o := range obs {
		if j != i {
			seeds = append(seeds, o.seeds...)
		}
	}
	return seeds
}

// apply writes a target's namespace, Secrets and K8ssandraCluster.
func (r *Reconciler) apply(ctx context.Context, in desiredInput, superuserData map[string][]byte, auth authority, policy certPolicy, existing *unstructured.Unstructured) error {
	t, mcc := in.Target, in.MCC
	if err := ensureNamespace(ctx, t.Client, mcc.Namespace); err != nil {
		return fmt.Errorf("%s: %w", t.name(), err)
	}
	if in.Superuser != "" && !t.local() {
		if err := applySecret(ctx, t.Client, mcc, in.Superuser, superuserData); err != nil {
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

// applyStores writes the target's keystore and truststore when they are missing or due, and
// returns what the K8ssandraCluster is to record about them.
func (r *Reconciler) applyStores(ctx context.Context, in desiredInput, auth authority, policy certPolicy, existing *unstructured.Unstructured) (issuedStores, error) {
	t, mcc := in.Target, in.MCC
	var names []string
	rawDCs, _, _ := unstructured.NestedSlice(in.K8ssandra, "cassandra", "datacenters")
	for _, i := range t.Datacenters {
		raw, _ := rawDCs[i].(map[string]any)
		resource, _ := datacenterNames(mcc, raw)
		names = append(names, resource)
	}
	prev := issuedStoresOf(existing)
	stores, next, err := issueStores(prev, auth, internodeNames(clusterName(mcc, in.K8ssandra), mcc.Namespace, names), policy, r.Now())
	if err != nil {
		return prev, err
	}
	if stores.Truststore != nil {
		if err := applySecret(ctx, t.Client, mcc, truststoreSecret(mcc), stores.Truststore); err != nil {
			return prev, err
		}
	}
	if stores.Keystore != nil {
		if err := applySecret(ctx, t.Client, mcc, keystoreSecret(mcc), stores.Keystore); err != nil {
			return prev, err
		}
		r.event(mcc, corev1.EventTypeNormal, "CertificatesIssued", "issued the internode keystore in %s", t.name())
	}
	return next, nil
}

// authority is the CA that signs the cluster's certificates: its own (rotated when due) or the
// cert-manager CA issuer its spec names.
func (r *Reconciler) authority(ctx context.Context, mcc *v1beta1.MissionControlCluster, p certPolicy) (authority, error) {
	if p.IssuerRef != nil {
		return r.issuer(ctx, mcc, p.IssuerRef)
	}
	var s corev1.Secret
	err := r.Client.Get(ctx, client.ObjectKey{Namespace: mcc.Namespace, Name: caSecret(mcc)}, &s)
	if err != nil && !apierrors.IsNotFound(err) {
		return authority{}, fmt.Errorf("read the CA Secret: %w", err)
	}
	data, auth, changed, err := rotateCA(s.Data, mcc.Namespace+"/"+mcc.Name+" internode CA", r.Now())
	if err != nil || !changed {
		return auth, err
	}
	if err := applySecret(ctx, r.Client, mcc, caSecret(mcc), data, ownerRef(mcc)); err != nil {
		return authority{}, fmt.Errorf("write the CA Secret: %w", err)
	}
	if s.Data != nil {
		r.event(mcc, corev1.EventTypeNormal, "CARotated", "rotated the cluster's CA; the previous one stays trusted until it expires")
	}
	return auth, nil
}

// issuerKinds are cert-manager's issuers, read as unstructured (cert-manager need not be
// installed unless issuerRef is used).
var issuerKinds = map[string]string{"": "Issuer", "Issuer": "Issuer", "ClusterIssuer": "ClusterIssuer"}

var certManager = schema.GroupVersion{Group: "cert-manager.io", Version: "v1"}

// clusterIssuerNamespace is where cert-manager keeps ClusterIssuers' Secrets by default.
const clusterIssuerNamespace = "cert-manager"

// issuer reads the CA of a cert-manager CA issuer and signs with it.
func (r *Reconciler) issuer(ctx context.Context, mcc *v1beta1.MissionControlCluster, ref *v1beta1.IssuerRef) (authority, error) {
	kind, ok := issuerKinds[ref.Kind]
	if !ok {
		return authority{}, fmt.Errorf("issuerRef kind %q: use Issuer or ClusterIssuer", ref.Kind)
	}
	iss := &unstructured.Unstructured{}
	iss.SetGroupVersionKind(certManager.WithKind(kind))
	key := client.ObjectKey{Name: ref.Name}
	secretNamespace := clusterIssuerNamespace
	if kind == "Issuer" {
		key.Namespace, secretNamespace = mcc.Namespace, mcc.Namespace
	}
	if err := r.Client.Get(ctx, key, iss); err != nil {
		return authority{}, fmt.Errorf("read cert-manager %s %s: %w", kind, ref.Name, err)
	}
	secretName, _, _ := unstructured.NestedString(iss.Object, "spec", "ca", "secretName")
	if secretName == "" {
		return authority{}, fmt.Errorf("cert-manager %s %s is not a CA issuer (spec.ca.secretName): only CA issuers can sign internode certificates here", kind, ref.Name)
	}
	var s, trust corev1.Secret
	if err := r.Client.Get(ctx, client.ObjectKey{Namespace: secretNamespace, Name: secretName}, &s); err != nil {
		return authority{}, fmt.Errorf("read the Secret %s of cert-manager %s %s: %w", secretName, kind, ref.Name, err)
	}
	// The cluster's CA Secret remembers which CAs the truststores held (ca.crt only: the issuer
	// keeps the key), so that the issuer's owner can rotate its CA.
	if err := r.Client.Get(ctx, client.ObjectKey{Namespace: mcc.Namespace, Name: caSecret(mcc)}, &trust); err != nil && !apierrors.IsNotFound(err) {
		return authority{}, fmt.Errorf("read the CA Secret: %w", err)
	}
	auth, err := issuerAuthority(s.Data, trust.Data[keyCACert], r.Now())
	if err != nil {
		return authority{}, err
	}
	if bundle := auth.trustedPEM(); !bytes.Equal(bundle, trust.Data[keyCACert]) {
		if err := applySecret(ctx, r.Client, mcc, caSecret(mcc), map[string][]byte{keyCACert: bundle}, ownerRef(mcc)); err != nil {
			return authority{}, fmt.Errorf("write the CA Secret: %w", err)
		}
	}
	return auth, nil
}

// superuser returns the shared superuser Secret's data, generating it on the control plane once.
func (r *Reconciler) superuser(ctx context.Context, mcc *v1beta1.MissionControlCluster, name string) (map[string][]byte, error) {
	var s corev1.Secret
	err := r.Client.Get(ctx, client.ObjectKey{Namespace: mcc.Namespace, Name: name}, &s)
	if err == nil {
		return s.Data, nil
	}
	if !apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("read the superuser Secret: %w", err)
	}
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	data := map[string][]byte{"username": []byte(name), "password": []byte(base64.RawURLEncoding.EncodeToString(b))}
	if err := applySecret(ctx, r.Client, mcc, name, data, ownerRef(mcc)); err != nil {
		return nil, fmt.Errorf("write the superuser Secret: %w", err)
	}
	return data, nil
}

// cleanUp deletes what the MissionControlCluster created in every target it wrote to, then lets
// it go. A target that cannot be reached holds the deletion until DeletionTimeout has passed
// since it began; after that its leftovers are reported in an event and left behind.
func (r *Reconciler) cleanUp(ctx context.Context, mcc *v1beta1.MissionControlCluster, targets []*target, planes map[string]*DataPlane) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(mcc, finalizer) {
		return ctrl.Result{}, nil
	}
	// Where it wrote, and where it may have written since its status was last recorded; a
	// context that was never registered holds nothing to clean up.
	keys := slices.Clone(mcc.Status.Targets)
	for _, t := range targets {
		if !errors.Is(t.Err, errNotRegistered) && !slices.Contains(keys, t.Key) {
			keys = append(keys, t.Key)
		}
	}
	var pending []string
	for _, key := range keys {
		c, name, err := r.Local, "local", error(nil)
		if key != "" {
			dp := planes[key]
			switch {
			case dp == nil:
				err = errors.New("no longer registered")
			case dp.Err != nil:
				err = dp.Err
			}
			if dp != nil {
				c, name = dp.Client, dp.Context
			} else {
				name = key
			}
		}
		if err == nil {
			err = deleteOwned(ctx, c, mcc)
		}
		if err != nil {
			pending = append(pending, fmt.Sprintf("%s (%v)", name, err))
		}
	}
	if len(pending) > 0 {
		waited := r.Now().Sub(mcc.DeletionTimestamp.Time)
		if waited < r.DeletionTimeout {
			r.event(mcc, corev1.EventTypeWarning, "CleanupPending", "waiting to clean up in %s", strings.Join(pending, ", "))
			return ctrl.Result{RequeueAfter: min(r.PendingResync, r.DeletionTimeout-waited)}, nil
		}
		r.event(mcc, corev1.EventTypeWarning, "CleanupAbandoned",
			"gave up after %s: K8ssandraCluster %s/%s and its Secrets remain in %s; delete them there", r.DeletionTimeout, mcc.Namespace, mcc.Name, strings.Join(pending, ", "))
	}
	patch := client.MergeFrom(mcc.DeepCopy())
	controllerutil.RemoveFinalizer(mcc, finalizer)
	if err := r.Client.Patch(ctx, mcc, patch); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	return ctrl.Result{}, nil
}

// deleteOwned deletes the K8ssandraCluster and the Secrets the operator wrote for mcc in one
// cluster. k8ssandra-operator's own finalizer then removes the datacenters.
func deleteOwned(ctx context.Context, c client.Client, mcc *v1beta1.MissionControlCluster) error {
	kc := &unstructured.Unstructured{}
	kc.SetGroupVersionKind(k8ssandraClusterGVK)
	kc.SetNamespace(mcc.Namespace)
	kc.SetName(mcc.Name)
	if err := c.Delete(ctx, kc); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete K8ssandraCluster: %w", err)
	}
	err := c.DeleteAllOf(ctx, &corev1.Secret{}, client.InNamespace(mcc.Namespace), client.MatchingLabels(ownedLabels(mcc)))
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete Secrets: %w", err)
	}
	return nil
}

// setConditions derives the conditions from what this reconcile found; it returns Ready.
func (r *Reconciler) setConditions(mcc *v1beta1.MissionControlCluster, targets []*target, policy certPolicy, certErr error, storeErrs map[string]error) bool {
	var unreachable, unknown []string
	for _, t := range targets {
		if t.Err == nil {
			continue
		}
		if errors.Is(t.Err, errNotRegistered) {
			unknown = append(unknown, t.Err.Error())
		} else {
			unreachable = append(unreachable, t.Err.Error())
		}
	}
	problems := append(slices.Clone(unknown), unreachable...)
	switch {
	case len(unknown) > 0:
		setCondition(mcc, ConditionDataPlanesReachable, false, "UnknownContext", strings.Join(problems, "; "))
	case len(unreachable) > 0:
		setCondition(mcc, ConditionDataPlanesReachable, false, "Unreachable", strings.Join(problems, "; "))
	default:
		setCondition(mcc, ConditionDataPlanesReachable, true, "Reachable", "every datacenter's cluster is reachable")
	}

	switch {
	case certErr != nil:
		setCondition(mcc, ConditionCertificatesReady, false, "IssuerError", certErr.Error())
		problems = append(problems, "certificates: "+certErr.Error())
	case !policy.Issue:
		setCondition(mcc, ConditionCertificatesReady, true, "NotRequested", "the operator issues no internode certificates for this cluster")
	case len(storeErrs) > 0:
		var msgs []string
		for _, err := range storeErrs {
			msgs = append(msgs, err.Error())
		}
		slices.Sort(msgs)
		setCondition(mcc, ConditionCertificatesReady, false, "StoresNotWritten", strings.Join(msgs, "; "))
		problems = append(problems, msgs...)
	default:
		setCondition(mcc, ConditionCertificatesReady, true, "Issued", "internode keystores and truststores are current in every reachable cluster")
	}

	readyDCs := 0
	for _, st := range mcc.Status.Datacenters {
		if datacenterReady(st) {
			readyDCs++
		}
	}
	total := len(mcc.Status.Datacenters)
	ready := total > 0 && readyDCs == total && len(problems) == 0
	msg := fmt.Sprintf("%d/%d datacenters ready", readyDCs, total)
	setCondition(mcc, ConditionReady, ready, map[bool]string{true: "DatacentersReady", false: "DatacentersNotReady"}[ready], msg)
	if len(problems) > 0 {
		setCondition(mcc, ConditionDegraded, true, "DatacentersAffected", strings.Join(problems, "; "))
	} else {
		setCondition(mcc, ConditionDegraded, false, "Healthy", "nothing stands in the way")
	}
	setCondition(mcc, ConditionProgressing, !ready, map[bool]string{true: "Reconciling", false: "Reconciled"}[!ready], msg)
	return ready
}

// recordReachability updates the data plane reachability metric.
func (r *Reconciler) recordReachability(targets []*target) {
	for _, t := range targets {
		if t.local() {
			continue
		}
		v := 1.0
		if t.Err != nil {
			v = 0
		}
		dataPlaneReachable.WithLabelValues(t.Key).Set(v)
	}
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

// applySecret writes a Secret the operator owns for mcc, server-side.
func applySecret(ctx context.Context, c client.Client, mcc *v1beta1.MissionControlCluster, name string, data map[string][]byte, owners ...*metav1ac.OwnerReferenceApplyConfiguration) error {
	s := corev1ac.Secret(name, mcc.Namespace).WithLabels(ownedLabels(mcc)).WithType(corev1.SecretTypeOpaque).WithData(data)
	if len(owners) > 0 {
		s = s.WithOwnerReferences(owners...)
	}
	if err := c.Apply(ctx, s, fieldOwner, client.ForceOwnership); err != nil {
		return fmt.Errorf("apply Secret %s/%s: %w", mcc.Namespace, name, err)
	}
	return nil
}

// ownerRef makes control-plane objects follow the MissionControlCluster, should the finalizer
// ever be removed by hand.
func ownerRef(mcc *v1beta1.MissionControlCluster) *metav1ac.OwnerReferenceApplyConfiguration {
	return metav1ac.OwnerReference().WithAPIVersion(v1beta1.GroupVersion.String()).WithKind("MissionControlCluster").
		WithName(mcc.Name).WithUID(mcc.UID)
}
