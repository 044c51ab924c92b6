package k0s

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"text/template"

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

//go:embed network.yaml
var networkManifest string

var networkTmpl = template.Must(template.New("network.yaml").Parse(networkManifest))

// NetworkManifest is the pod network's manifest: kube-router on every node routing the nodes' pod
// ranges to each other and enforcing NetworkPolicy (kube-proxy keeps the Services), reading and
// completing the CNI configuration at l.CNIConfigFile() with its node's range.
func NetworkManifest(l datadir.Layout, image string) ([]byte, error) {
	if image == "" {
		return nil, errors.New("the pod network needs kube-router's image")
	}
	var b bytes.Buffer
	if err := networkTmpl.Execute(&b, map[string]any{
		"Image": image, "CNIConfDir": l.CNIConfDir(), "CNIConfigFile": l.CNIConfigFile(), "HealthPort": NetworkHealthPort,
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
