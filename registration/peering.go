package registration

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/datastax/mission-control/internal/contract"
)

// How registered clusters' pods reach each other (the docs' routed pod CIDRs), set up by
// register and undone by deregister, with nothing for the user to route by hand:
//
//   - each cluster's ConfigMap kube-system/mission-control-peers (contract.Peers) lists the other
//     clusters it is registered with: their pod range and their nodes' addresses;
//   - every node of a cluster is annotated with kube-router's BGP peers: every node of every
//     cluster in that list (contract.PeerAnnotations). kube-router reads the annotations when it
//     starts, so register restarts it on the nodes whose peers changed; it then announces its
//     node's share of the pod range to the peers and routes theirs through the node announcing
//     it (the hosts share a network). The annotations and ConfigMap live in the clusters, so they
//     outlast a restart of the runtime or the host;
//   - the pod network's peering agent on every node reads the same ConfigMap and keeps traffic to
//     the peers' pod ranges out of kube-router's masquerade, so the peers see the pods' own
//     addresses (their internode NetworkPolicy admits database pods by address).
//
// A node that joins a cluster later gets its peers at the next register; reset of a host takes
// its routes and rules with the runtime.

// kubeRouterLabel selects kube-router's pods, in kube-system.
var kubeRouterLabel = client.MatchingLabels{"k8s-app": "kube-router"}

// peerSide is one cluster of a peering: its connection, its name in the other's Peers ConfigMap
// (key), and what the other learns of it.
type peerSide struct {
	c    *cluster
	flag string
	key  string
	peer contract.Peer
}

// nodeAddresses are a cluster's nodes' internal addresses, as kube-router peers by them.
func nodeAddresses(ctx context.Context, c *cluster) ([]netip.Addr, error) {
	var nodes corev1.NodeList
	if err := c.client.List(ctx, &nodes); err != nil {
		return nil, fmt.Errorf("list its nodes: %w", err)
	}
	var addrs []netip.Addr
	for _, n := range nodes.Items {
		if a, ok := internalAddress(n); ok {
			addrs = append(addrs, a)
		}
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("none of its %d nodes has an internal address", len(nodes.Items))
	}
	slices.SortFunc(addrs, netip.Addr.Compare)
	return addrs, nil
}

func internalAddress(n corev1.Node) (netip.Addr, bool) {
	for _, a := range n.Status.Addresses {
		if a.Type == corev1.NodeInternalIP {
			if addr, err := netip.ParseAddr(a.Address); err == nil {
				return addr, true
			}
		}
	}
	return netip.Addr{}, false
}

// readPeers reads a cluster's Peers ConfigMap; a missing one is empty.
func readPeers(ctx context.Context, c *cluster) (*corev1.ConfigMap, map[string]contract.Peer, error) {
	cm := &corev1.ConfigMap{}
	err := c.client.Get(ctx, client.ObjectKey{Namespace: metav1.NamespaceSystem, Name: contract.Peers}, cm)
	if apierrors.IsNotFound(err) {
		cm = &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: metav1.NamespaceSystem, Name: contract.Peers,
			Labels: map[string]string{labelManagedBy: managedBy}}}
		return cm, map[string]contract.Peer{}, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read ConfigMap %s/%s: %w", metav1.NamespaceSystem, contract.Peers, err)
	}
	peers, err := contract.ParsePeers(cm.Data)
	return cm, peers, err
}

// checkPeers refuses a new peer whose pod range overlaps that of one of side's other peers (a
// control plane's other data planes): all of them route to each other's pods through it. The same
// cluster registered again (its range and nodes) is no conflict.
func checkPeers(ctx context.Context, side, newPeer peerSide) error {
	_, peers, err := readPeers(ctx, side.c)
	if err != nil {
		return fmt.Errorf("%s %s: %w", side.flag, side.c.Context, err)
	}
	for _, name := range slices.Sorted(maps.Keys(peers)) {
		p := peers[name]
		same := p.PodCIDR == newPeer.peer.PodCIDR && slices.Equal(p.Nodes, newPeer.peer.Nodes)
		if name != newPeer.key && !same && p.PodCIDR.Overlaps(newPeer.peer.PodCIDR) {
			return fmt.Errorf("%s %s's pod range %s overlaps that of %s, already registered with %s %s (%s): reset one and install it again with another --cidr",
				newPeer.flag, newPeer.c.Context, newPeer.peer.PodCIDR, name, side.flag, side.c.Context, p.PodCIDR)
		}
	}
	return nil
}

// setPeer adds (peer set) or removes (nil) key in side's Peers ConfigMap, then brings its nodes'
// BGP peers in line; it returns the nodes whose kube-router must restart.
func setPeer(ctx context.Context, side *cluster, key string, peer *contract.Peer) ([]string, error) {
	cm, peers, err := readPeers(ctx, side)
	if err != nil {
		return nil, err
	}
	if peer != nil {
		b, err := json.Marshal(peer)
		if err != nil {
			return nil, err
		}
		if cm.Data == nil {
			cm.Data = map[string]string{}
		}
		cm.Data[key] = string(b)
		peers[key] = *peer
	} else if _, ok := peers[key]; ok {
		delete(cm.Data, key)
		delete(peers, key)
	} else {
		return annotateNodes(ctx, side, contract.PeerAnnotations(peers))
	}
	// A new ConfigMap is created, one left without peers goes, any other is updated.
	switch {
	case cm.ResourceVersion == "":
		err = side.client.Create(ctx, cm)
	case len(cm.Data) == 0:
		err = side.client.Delete(ctx, cm)
	default:
		err = side.client.Update(ctx, cm)
	}
	if err != nil {
		return nil, fmt.Errorf("write ConfigMap %s/%s: %w", metav1.NamespaceSystem, contract.Peers, err)
	}
	return annotateNodes(ctx, side, contract.PeerAnnotations(peers))
}

// annotateNodes sets every node's kube-router peer annotations to want (nil: none) and returns
// the nodes it changed.
func annotateNodes(ctx context.Context, side *cluster, want map[string]string) ([]string, error) {
	var nodes corev1.NodeList
	if err := side.client.List(ctx, &nodes); err != nil {
		return nil, fmt.Errorf("list nodes: %w", err)
	}
	var changed []string
	for _, n := range nodes.Items {
		patch := map[string]any{}
		for _, k := range []string{contract.PeerIPsAnnotation, contract.PeerASNsAnnotation} {
			have, has := n.Annotations[k]
			switch v, wanted := want[k]; {
			case wanted && v != have:
				patch[k] = v
			case !wanted && has:
				patch[k] = nil // a merge patch's null removes it
			}
		}
		if len(patch) == 0 {
			continue
		}
		b, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": patch}})
		if err != nil {
			return nil, err
		}
		if err := side.client.Patch(ctx, &n, client.RawPatch(types.MergePatchType, b)); err != nil {
			return nil, fmt.Errorf("annotate node %s with its BGP peers: %w", n.Name, err)
		}
		changed = append(changed, n.Name)
	}
	return changed, nil
}

// restartKubeRouter restarts kube-router on nodes (it reads its peers when it starts; BGP's
// graceful restart keeps the routes meanwhile) and waits, up to timeout, for them to run again.
func restartKubeRouter(ctx context.Context, side *cluster, nodes []string, timeout time.Duration) error {
	if len(nodes) == 0 {
		return nil
	}
	var pods corev1.PodList
	if err := side.client.List(ctx, &pods, client.InNamespace(metav1.NamespaceSystem), kubeRouterLabel); err != nil {
		return fmt.Errorf("list kube-router's pods: %w", err)
	}
	restarted := map[string]types.UID{}
	for _, p := range pods.Items {
		if slices.Contains(nodes, p.Spec.NodeName) {
			if err := client.IgnoreNotFound(side.client.Delete(ctx, &p)); err != nil {
				return fmt.Errorf("restart kube-router on node %s: %w", p.Spec.NodeName, err)
			}
			restarted[p.Spec.NodeName] = p.UID
		}
	}
	waiting := ""
	err := wait.PollUntilContextTimeout(ctx, time.Second, timeout, true, func(ctx context.Context) (bool, error) {
		var now corev1.PodList
		if err := side.client.List(ctx, &now, client.InNamespace(metav1.NamespaceSystem), kubeRouterLabel); err != nil {
			waiting = err.Error()
			return false, nil
		}
		for node, old := range restarted {
			i := slices.IndexFunc(now.Items, func(p corev1.Pod) bool { return p.Spec.NodeName == node && p.UID != old && podReady(p) })
			if i < 0 {
				waiting = "kube-router on node " + node + " is not ready yet"
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("kube-router did not come back with its new BGP peers within %s (%s): see kubectl -n kube-system get pods -l k8s-app=kube-router", timeout, waiting)
	}
	return nil
}

func podReady(p corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// peeringTimeout bounds kube-router's restart on a cluster's nodes.
const peeringTimeout = 2 * time.Minute

// connectPods makes each side a peer of the other (see the top of this file).
func connectPods(ctx context.Context, sides [2]peerSide) error {
	for i, side := range sides {
		other := sides[1-i]
		nodes, err := setPeer(ctx, side.c, other.key, &other.peer)
		if err == nil {
			err = restartKubeRouter(ctx, side.c, nodes, peeringTimeout)
		}
		if err != nil {
			return fmt.Errorf("%s %s: route to %s's pods: %w", side.flag, side.c.Context, other.c.Context, err)
		}
	}
	return nil
}

// disconnectPods undoes connectPods.
func disconnectPods(ctx context.Context, sides [2]peerSide) error {
	for i, side := range sides {
		other := sides[1-i]
		nodes, err := setPeer(ctx, side.c, other.key, nil)
		if err == nil {
			err = restartKubeRouter(ctx, side.c, nodes, peeringTimeout)
		}
		if err != nil {
			return fmt.Errorf("%s %s: stop routing to %s's pods: %w", side.flag, side.c.Context, other.c.Context, err)
		}
	}
	return nil
}
