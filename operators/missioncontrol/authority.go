package missioncontrol

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/datastax/mission-control/operators/missioncontrol/api/v1beta1"
)

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
		if err := writeSecret(ctx, t.Client, mcc, truststoreSecret(mcc), stores.Truststore); err != nil {
			return prev, err
		}
	}
	if stores.Keystore != nil {
		if err := writeSecret(ctx, t.Client, mcc, keystoreSecret(mcc), stores.Keystore); err != nil {
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
	if err := writeSecret(ctx, r.Client, mcc, caSecret(mcc), data, ownerRef(mcc)); err != nil {
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
		if err := writeSecret(ctx, r.Client, mcc, caSecret(mcc), map[string][]byte{keyCACert: bundle}, ownerRef(mcc)); err != nil {
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
	if err := writeSecret(ctx, r.Client, mcc, name, data, ownerRef(mcc)); err != nil {
		return nil, fmt.Errorf("write the superuser Secret: %w", err)
	}
	return data, nil
}
