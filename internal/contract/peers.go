package contract

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// Peers names the ConfigMap, in kube-system of every registered cluster, listing the clusters its
// pods reach by address (mcctl register writes it on both sides, deregister removes the entry):
// one key per peer cluster, its value a Peer as JSON. The pod network's peering agent reads it on
// every node; the nodes' BGP peerings are annotations register derives from it.
const Peers = "mission-control-peers"

// PeeringChain is the nat chain in which the pod network's peering agent accepts traffic to the
// peers' pod ranges untranslated; reset removes it with the runtime's other chains.
const PeeringChain = "MC-PEER-PODS"

// Peer is a registered cluster as the pod network of another sees it: its pod range, reached
// through its nodes, which announce their shares of it over BGP.
type Peer struct {
	PodCIDR netip.Prefix `json:"podCIDR"`
	Nodes   []netip.Addr `json:"nodes"`
}

// PeeringASN is the BGP autonomous system of every cluster's nodes: kube-router's default, so
// the peerings between clusters are internal BGP sessions, node to node.
const PeeringASN = 64512

// Kube-router's node annotations naming a node's BGP peers outside its cluster (read when
// kube-router starts on the node).
const (
	PeerIPsAnnotation  = "kube-router.io/peer.ips"
	PeerASNsAnnotation = "kube-router.io/peer.asns"
)

// ParsePeers reads the Peers ConfigMap's data, by key.
func ParsePeers(data map[string]string) (map[string]Peer, error) {
	peers := make(map[string]Peer, len(data))
	for name, value := range data {
		var p Peer
		if err := json.Unmarshal([]byte(value), &p); err != nil {
			return nil, fmt.Errorf("peer %s in ConfigMap kube-system/%s: %w", name, Peers, err)
		}
		if !p.PodCIDR.IsValid() {
			return nil, fmt.Errorf("peer %s in ConfigMap kube-system/%s has no pod range", name, Peers)
		}
		peers[name] = p
	}
	return peers, nil
}

// PeerAnnotations are a node's kube-router peer annotations for peers: every peer cluster's nodes,
// sorted; none (nil) without peers.
func PeerAnnotations(peers map[string]Peer) map[string]string {
	var ips []netip.Addr
	for _, p := range peers {
		ips = append(ips, p.Nodes...)
	}
	if len(ips) == 0 {
		return nil
	}
	slices.SortFunc(ips, netip.Addr.Compare)
	ips = slices.Compact(ips)
	addrs, asns := make([]string, len(ips)), make([]string, len(ips))
	for i, ip := range ips {
		addrs[i], asns[i] = ip.String(), fmt.Sprint(PeeringASN)
	}
	return map[string]string{PeerIPsAnnotation: strings.Join(addrs, ","), PeerASNsAnnotation: strings.Join(asns, ",")}
}
