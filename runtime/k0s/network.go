package k0s

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"text/template"

	"github.com/datastax/mission-control/internal/contract"
	"github.com/datastax/mission-control/internal/datadir"
)

// BridgeName is the Linux bridge of the pod network: kube-router makes it, under this name only.
const BridgeName = "kube-bridge"

// Host ports kube-router binds: BGP between the nodes, gobgp's API and its health check.
const (
	BGPPort           = 179
	GoBGPPort         = 50051
	NetworkHealthPort = 20244
)

// routesSyncPeriod is how often kube-router syncs its routes and its ipsets of the nodes' pod
// ranges (5 minutes by default). Until a new node's range is in that set, pods' traffic to the
// new node's pods is masqueraded as leaving the cluster, so NetworkPolicy there sees the node's
// address instead of the pod's: a joined node's pods would be cut off from peers a policy admits.
const routesSyncPeriod = "15s"

//go:embed network.yaml
var networkManifest string

var networkTmpl = template.Must(template.New("network.yaml").Parse(networkManifest))

// Network is what the pod network's manifest is made of.
type Network struct {
	// KubeRouterImage and PeeringImage are the payload's images of kube-router and of the
	// peering agent.
	KubeRouterImage, PeeringImage string
	// PodCIDR and ServiceCIDR are the cluster's ranges.
	PodCIDR, ServiceCIDR netip.Prefix
}

// PeeringDaemonSet is the DaemonSet, in kube-system, of the pod network's peering agent
// (cmd/pod-network-peering), which keeps traffic to registered clusters' pods untranslated.
const PeeringDaemonSet = "mission-control-peering"

// NetworkManifest is the pod network's manifest: kube-router on every node routing the nodes' pod
// ranges to each other and enforcing NetworkPolicy (kube-proxy keeps the Services), reading and
// completing the CNI configuration at l.CNIConfigFile() with its node's range; its firewall lets
// the service range through to the nodes. Beside it on every node, the peering agent reads the
// registered clusters (ConfigMap contract.Peers) and keeps their pod ranges out of kube-router's
// masquerade; kube-router's BGP peerings with their nodes are its node annotations.
func NetworkManifest(l datadir.Layout, n Network) ([]byte, error) {
	if n.KubeRouterImage == "" || n.PeeringImage == "" {
		return nil, errors.New("the pod network needs kube-router's and the peering agent's images")
	}
	if !n.PodCIDR.IsValid() || !n.ServiceCIDR.IsValid() {
		return nil, errors.New("the pod network needs the pod and service ranges")
	}
	var b bytes.Buffer
	if err := networkTmpl.Execute(&b, map[string]any{
		"Image": n.KubeRouterImage, "PeeringImage": n.PeeringImage, "PeeringDaemonSet": PeeringDaemonSet, "Peers": contract.Peers,
		"CNIConfDir": l.CNIConfDir(), "CNIConfigFile": l.CNIConfigFile(), "HealthPort": NetworkHealthPort,
		"PodCIDR": n.PodCIDR.String(), "ServiceCIDR": n.ServiceCIDR.String(), "RoutesSyncPeriod": routesSyncPeriod,
	}); err != nil {
		return nil, fmt.Errorf("render the pod network's manifest: %w", err)
	}
	return b.Bytes(), nil
}

// CNIConfig is the pod network's CNI configuration, kube-router's shape: a bridge with host-local
// addresses, whose range kube-router adds when it starts on the node (the node's share of the pod
// range, allocated by kube-controller-manager). Pod traffic leaving the cluster is masqueraded by
// kube-router, not by the bridge plugin.
func CNIConfig(l datadir.Layout) ([]byte, error) {
	conf := map[string]any{
		"cniVersion": "0.3.1",
		"name":       "mission-control",
		"plugins": []any{
			map[string]any{
				"type": "bridge", "bridge": BridgeName, "isDefaultGateway": true, "hairpinMode": true, "ipMasq": false,
				"ipam": map[string]any{"type": "host-local", "dataDir": l.CNIStateDir()},
			},
			map[string]any{"type": "portmap", "capabilities": map[string]bool{"portMappings": true, "snat": true}},
		},
	}
	b, err := json.MarshalIndent(conf, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode CNI config: %w", err)
	}
	return append(b, '\n'), nil
}

// SameCNIConfig reports whether have is the CNI configuration want, kube-router's rewrite of it
// aside: kube-router writes its node's range into the bridge plugin's ipam and the node's MTU
// into the plugin (keeping every other setting); a re-run of install must neither take that for
// a change nor overwrite it (new pods would get no address).
func SameCNIConfig(have, want []byte) bool {
	var h, w any
	if json.Unmarshal(have, &h) != nil || json.Unmarshal(want, &w) != nil {
		return false
	}
	return cniCovers(h, w)
}

// kubeRouterKeys are the settings kube-router adds to the CNI configuration.
var kubeRouterKeys = map[string]bool{"ranges": true, "mtu": true}

// cniCovers: have holds every setting of want, and nothing else but kubeRouterKeys.
func cniCovers(have, want any) bool {
	switch w := want.(type) {
	case map[string]any:
		h, ok := have.(map[string]any)
		if !ok {
			return false
		}
		for k, wv := range w {
			if hv, ok := h[k]; !ok || !cniCovers(hv, wv) {
				return false
			}
		}
		for k := range h {
			if _, ours := w[k]; !ours && !kubeRouterKeys[k] {
				return false
			}
		}
		return true
	case []any:
		h, ok := have.([]any)
		if !ok || len(h) != len(w) {
			return false
		}
		for i := range w {
			if !cniCovers(h[i], w[i]) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(have, want)
}
