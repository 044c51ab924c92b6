package k0s

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"strings"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/yaml"

	"github.com/datastax/mission-control/internal/contract"
)

// JoinConfigMap holds, in kube-system, what a joining node checks before it joins: the cluster's
// license, mode and ranges. Its readers are BootstrapGroup: the holders of a worker join token
// (the group every bootstrap token authenticates as) and a joining controller's check (which signs
// itself into it), who may also list the nodes, to count them against the license.
const (
	JoinConfigMap  = contract.ClusterFacts
	BootstrapGroup = "system:bootstrappers"
	joinRole       = "mission-control:join"
	leaveRole      = "mission-control:leave"
)

// APIPort is the Kubernetes API's port on every controller (k0s' default, which the runtime
// config keeps); a controller join token names k0s' join API instead.
const APIPort = 6443

// JoinFacts are the cluster's facts a joining node checks against.
type JoinFacts struct {
	LicenseID   string `json:"licenseID"`
	Mode        string `json:"mode"`
	PodCIDR     string `json:"podCIDR"`
	ServiceCIDR string `json:"serviceCIDR"`
	Version     string `json:"version"` // mission-control's, which a joining node must match
	// Bundle is the ID of the air-gap bundle the cluster was installed from; empty when online.
	Bundle string `json:"bundle,omitempty"`
	// OIDC is the issuer the cluster's API trusts, which a joining controller's API trusts too.
	OIDC *OIDC `json:"oidc,omitempty"`
}

// Data is the ConfigMap's data.
func (f JoinFacts) Data() map[string]string {
	data := map[string]string{"licenseID": f.LicenseID, "mode": f.Mode, contract.PodCIDRKey: f.PodCIDR, contract.ServiceCIDRKey: f.ServiceCIDR, "version": f.Version}
	if f.Bundle != "" {
		data["bundle"] = f.Bundle
	}
	if f.OIDC != nil {
		raw, _ := json.Marshal(f.OIDC) // strings only: cannot fail
		data["oidc"] = string(raw)
	}
	return data
}

// JoinFactsFrom reads the ConfigMap's data; every fact must be there.
func JoinFactsFrom(data map[string]string) (JoinFacts, error) {
	f := JoinFacts{LicenseID: data["licenseID"], Mode: data["mode"], PodCIDR: data[contract.PodCIDRKey], ServiceCIDR: data[contract.ServiceCIDRKey], Version: data["version"], Bundle: data["bundle"]}
	if f.LicenseID == "" || f.Mode == "" || f.PodCIDR == "" || f.ServiceCIDR == "" || f.Version == "" {
		return JoinFacts{}, fmt.Errorf("the cluster's %s ConfigMap is incomplete: reinstall its controller with this version", JoinConfigMap)
	}
	if raw := data["oidc"]; raw != "" {
		f.OIDC = &OIDC{}
		if err := json.Unmarshal([]byte(raw), f.OIDC); err != nil {
			return JoinFacts{}, fmt.Errorf("the cluster's %s ConfigMap has an unreadable oidc entry: %w", JoinConfigMap, err)
		}
	}
	return f, nil
}

// JoinManifest is written into k0s' manifests dir on the first node: the join facts and the
// read-only rights a worker join token needs to check them.
func JoinManifest(f JoinFacts) ([]byte, error) {
	bootstrappers := []rbacv1.Subject{{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: BootstrapGroup}}
	objs := []any{
		&corev1.ConfigMap{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
			ObjectMeta: metav1.ObjectMeta{Name: JoinConfigMap, Namespace: metav1.NamespaceSystem},
			Data:       f.Data(),
		},
		&rbacv1.Role{
			TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "Role"},
			ObjectMeta: metav1.ObjectMeta{Name: joinRole, Namespace: metav1.NamespaceSystem},
			Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"configmaps"}, ResourceNames: []string{JoinConfigMap}, Verbs: []string{"get"}}},
		},
		&rbacv1.RoleBinding{
			TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "RoleBinding"},
			ObjectMeta: metav1.ObjectMeta{Name: joinRole, Namespace: metav1.NamespaceSystem},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: joinRole},
			Subjects:   bootstrappers,
		},
		&rbacv1.ClusterRole{
			TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRole"},
			ObjectMeta: metav1.ObjectMeta{Name: joinRole},
			Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"nodes"}, Verbs: []string{"list"}}},
		},
		&rbacv1.ClusterRoleBinding{
			TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRoleBinding"},
			ObjectMeta: metav1.ObjectMeta{Name: joinRole},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: joinRole},
			Subjects:   bootstrappers,
		},
		// A worker leaving (reset) drains itself with its kubelet's credentials, which may delete
		// its own pods; telling DaemonSets' pods (which stay) from others needs reading them.
		&rbacv1.ClusterRole{
			TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRole"},
			ObjectMeta: metav1.ObjectMeta{Name: leaveRole},
			Rules:      []rbacv1.PolicyRule{{APIGroups: []string{"apps"}, Resources: []string{"daemonsets"}, Verbs: []string{"get"}}},
		},
		&rbacv1.ClusterRoleBinding{
			TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRoleBinding"},
			ObjectMeta: metav1.ObjectMeta{Name: leaveRole},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: leaveRole},
			Subjects:   []rbacv1.Subject{{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: "system:nodes"}},
		},
	}
	var b bytes.Buffer
	b.WriteString("# Written by mission-control install into k0s' manifests dir: what a joining node checks.\n")
	for _, o := range objs {
		doc, err := yaml.Marshal(o)
		if err != nil {
			return nil, fmt.Errorf("encode the join manifest: %w", err)
		}
		b.WriteString("---\n")
		b.Write(doc)
	}
	return b.Bytes(), nil
}

// JoinToken is a k0s join token, as k0s token create makes it: a kubeconfig (the API's address,
// the cluster's CA and a bootstrap token) gzipped and base64-encoded.
type JoinToken struct {
	// Encoded is the token as given, which k0s' worker reads from its token file.
	Encoded string
	// Role is the node role the token joins: RoleWorker or RoleController.
	Role string
	// Server is the address the token joins through; CA the cluster's CA certificate (PEM).
	Server string
	CA     []byte
	// Bearer is the bootstrap token, "ID.SECRET".
	Bearer string
}

// k0s' names for a token's user, by role (k0s pkg/token).
var tokenRoles = map[string]string{"kubelet-bootstrap": RoleWorker, "controller-bootstrap": RoleController}

// ParseJoinToken decodes a join token; it refuses what is not one, naming the fix.
func ParseJoinToken(encoded string) (JoinToken, error) {
	encoded = strings.TrimSpace(encoded)
	bad := func(why string) (JoinToken, error) {
		return JoinToken{}, fmt.Errorf("the join token is not one (%s): print a new one on the controller with: mission-control node join-command --role worker", why)
	}
	gz, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		return bad("not base64")
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return bad("not gzip")
	}
	kubeconfig, err := io.ReadAll(io.LimitReader(zr, 1<<20))
	if err != nil {
		return bad("damaged")
	}
	cfg, err := clientcmd.Load(kubeconfig)
	if err != nil {
		return bad("no kubeconfig inside")
	}
	kctx := cfg.Contexts[cfg.CurrentContext]
	if kctx == nil || cfg.Clusters[kctx.Cluster] == nil || cfg.AuthInfos[kctx.AuthInfo] == nil {
		return bad("no current context")
	}
	cluster, user := cfg.Clusters[kctx.Cluster], cfg.AuthInfos[kctx.AuthInfo]
	role, ok := tokenRoles[kctx.AuthInfo]
	if !ok || user.Token == "" || cluster.Server == "" || len(cluster.CertificateAuthorityData) == 0 {
		return bad("no role, address, CA or token")
	}
	return JoinToken{Encoded: encoded, Role: role, Server: cluster.Server, CA: cluster.CertificateAuthorityData, Bearer: user.Token}, nil
}

// TokenID is the bootstrap token's public part, which names it in the cluster.
func (t JoinToken) TokenID() string { id, _, _ := strings.Cut(t.Bearer, "."); return id }

// CAPin is the SHA-256 of the CA certificate's public key, as kubeadm pins a cluster's CA:
// the user can compare it with what node join-command printed.
func (t JoinToken) CAPin() (string, error) {
	return CAPin(t.CA)
}

// CAPin is the sha256 pin of the PEM CA certificate's public key.
func CAPin(caPEM []byte) (string, error) {
	block, _ := pem.Decode(caPEM)
	if block == nil {
		return "", errors.New("the cluster's CA is not a PEM certificate")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return "", fmt.Errorf("the cluster's CA: %w", err)
	}
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}
