// Package k0s is mission-control's embedded Kubernetes: a single-node k0s whose configuration
// is derived from the install plan, with its files laid out under the mission-control data dir.
package k0s

import (
	"errors"
	"fmt"
	"net/netip"

	k0sapi "github.com/k0sproject/k0s/pkg/apis/k0s/v1beta1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"
)

// Pinned versions of the runtime, from versions.env. The build fetches or builds exactly these.
var (
	KubernetesVersion = version("KUBERNETES_VERSION")
	PauseVersion      = version("PAUSE_VERSION")
	CoreDNSVersion    = version("COREDNS_VERSION")
)

// Images of the runtime, built from source into the payload and imported before k0s starts.
const (
	PauseImage     = "localhost/mission-control/pause"
	KubeProxyImage = "localhost/mission-control/kube-proxy"
	CoreDNSImage   = "localhost/mission-control/coredns"
)

// kubeletImageGCOff is the kubelet configuration that disables image garbage collection: a high
// threshold of 100% is never crossed.
const kubeletImageGCOff = `{"imageGCHighThresholdPercent":100,"imageGCLowThresholdPercent":99}`

// Config is what the runtime's configuration is derived from.
type Config struct {
	PodCIDR     netip.Prefix
	ServiceCIDR netip.Prefix
	NodeAddress netip.Addr
	// OIDC, when set, makes the API accept the issuer's ID tokens; its CA is read from OIDCCAFile.
	OIDC       *OIDC
	OIDCCAFile string
}

// OIDCPrefix starts the user and group names of OIDC identities in RBAC (oidc:alice@example.com),
// so that no ID token can pass for a ServiceAccount or a system user.
const OIDCPrefix = "oidc:"

// OIDC makes the Kubernetes API accept ID tokens of an OpenID Connect issuer as bearer tokens:
// the Mission Control UI signs users in with them.
type OIDC struct {
	IssuerURL string `json:"issuerURL"`
	// ClientID is the audience the ID tokens must name.
	ClientID string `json:"clientID"`
	// UsernameClaim and GroupsClaim name the claims RBAC sees (after OIDCPrefix).
	UsernameClaim string `json:"usernameClaim"`
	GroupsClaim   string `json:"groupsClaim,omitempty"`
	// CA is the PEM the issuer's certificate is verified with; empty: the host's trust store.
	CA string `json:"ca,omitempty"`
}

// APIServerArgs are the API server's flags for o, its CA in caFile.
func (o *OIDC) APIServerArgs(caFile string) map[string]string {
	args := map[string]string{"oidc-issuer-url": o.IssuerURL, "oidc-client-id": o.ClientID,
		"oidc-username-claim": o.UsernameClaim, "oidc-username-prefix": OIDCPrefix}
	if o.GroupsClaim != "" {
		args["oidc-groups-claim"], args["oidc-groups-prefix"] = o.GroupsClaim, OIDCPrefix
	}
	if o.CA != "" {
		args["oidc-ca-file"] = caFile
	}
	return args
}

// file is the configuration mission-control writes: only what it decides. k0s fills in the rest
// with its defaults when it reads the file, exactly as Render checks below.
func (c Config) file() *k0sapi.ClusterConfig {
	addr := c.NodeAddress.String()
	api := &k0sapi.APISpec{Address: addr, SANs: []string{addr, "127.0.0.1", "localhost"}}
	if c.OIDC != nil {
		api.ExtraArgs = c.OIDC.APIServerArgs(c.OIDCCAFile)
	}
	return &k0sapi.ClusterConfig{
		TypeMeta:   metav1.TypeMeta{APIVersion: k0sapi.GroupVersion.String(), Kind: "ClusterConfig"},
		ObjectMeta: metav1.ObjectMeta{Name: "k0s"},
		Spec: &k0sapi.ClusterSpec{
			API: api,
			Network: &k0sapi.Network{
				Provider:    "custom", // mission-control sets up pod networking itself
				PodCIDR:     c.PodCIDR.String(),
				ServiceCIDR: c.ServiceCIDR.String(),
			},
			// k0s --single would otherwise pick kine.
			Storage: &k0sapi.StorageSpec{Type: k0sapi.EtcdStorageType, Etcd: &k0sapi.EtcdConfig{PeerAddress: addr}},
			// Images come from the local store only: nothing may reach for a registry.
			Images: &k0sapi.ClusterImages{
				DefaultPullPolicy: "Never",
				Pause:             &k0sapi.ImageSpec{Image: PauseImage, Version: PauseVersion},
				KubeProxy:         &k0sapi.ImageSpec{Image: KubeProxyImage, Version: KubernetesVersion},
				CoreDNS:           &k0sapi.ImageSpec{Image: CoreDNSImage, Version: CoreDNSVersion},
			},
			Telemetry: &k0sapi.ClusterTelemetry{Enabled: new(false)},
			// The kubelet's image garbage collection is off: every image comes from the payload or
			// an air-gap bundle and none can be pulled again, so one collected under disk pressure
			// (the pause image first) would stop every new pod for good.
			WorkerProfiles: k0sapi.WorkerProfiles{{Name: "default", Config: &runtime.RawExtension{Raw: []byte(kubeletImageGCOff)}}},
		},
	}
}

// Render returns the k0s configuration file. It reads the file back the way k0s will (defaults,
// then the file) and runs k0s' own validation, so a config k0s would refuse is never written.
func (c Config) Render() ([]byte, error) {
	if !c.PodCIDR.IsValid() || !c.ServiceCIDR.IsValid() || !c.NodeAddress.IsValid() {
		return nil, errors.New("runtime config needs the pod range, the service range and the node address")
	}
	out, err := yaml.Marshal(c.file())
	if err != nil {
		return nil, fmt.Errorf("encode k0s config: %w", err)
	}
	parsed, err := k0sapi.ConfigFromBytes(out)
	if err != nil {
		return nil, fmt.Errorf("k0s cannot read the runtime config: %w", err)
	}
	if errs := parsed.Validate(); len(errs) > 0 {
		return nil, fmt.Errorf("k0s refuses the runtime config: %w", errors.Join(errs...))
	}
	return append([]byte("# Written by mission-control install. Do not edit: reinstall to change it.\n"), out...), nil
}
