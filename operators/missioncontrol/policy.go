package missioncontrol

import (
	"context"
	"fmt"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"
	networkingv1ac "k8s.io/client-go/applyconfigurations/networking/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/datastax/mission-control/operators/missioncontrol/api/v1beta1"
)

// Cassandra's internode ports: plain and TLS.
const (
	internodePort    = 7000
	internodeTLSPort = 7001
)

// internodePolicyName names the NetworkPolicy of a cluster's namespace in each target.
func internodePolicyName(mcc *v1beta1.MissionControlCluster) string { return mcc.Name + "-internode" }

// internodePolicy admits the internode ports of the cluster's database pods only from database
// pods of the same Cassandra cluster: in any namespace of the target, and in the other targets by
// address (remote: their pod IPs, which reach this target unmasqueraded over the routes between
// registered clusters); every other port of theirs stays open (clients, the management API). The
// pods are cass-operator's, labelled with their cluster's name.
func internodePolicy(mcc *v1beta1.MissionControlCluster, cassandraCluster string, remote []string) *networkingv1ac.NetworkPolicyApplyConfiguration {
	database := metav1ac.LabelSelector().WithMatchLabels(map[string]string{labelCassCluster: cassandraCluster})
	tcp, udp := corev1.ProtocolTCP, corev1.ProtocolUDP
	port := func(proto corev1.Protocol, from, to int32) *networkingv1ac.NetworkPolicyPortApplyConfiguration {
		p := networkingv1ac.NetworkPolicyPort().WithProtocol(proto).WithPort(intstr.FromInt32(from))
		if to != from {
			p = p.WithEndPort(to)
		}
		return p
	}
	peers := []*networkingv1ac.NetworkPolicyPeerApplyConfiguration{
		networkingv1ac.NetworkPolicyPeer().WithNamespaceSelector(metav1ac.LabelSelector()).WithPodSelector(database),
	}
	for _, ip := range remote {
		if addr, err := netip.ParseAddr(ip); err == nil {
			peers = append(peers, networkingv1ac.NetworkPolicyPeer().WithIPBlock(networkingv1ac.IPBlock().WithCIDR(netip.PrefixFrom(addr, addr.BitLen()).String())))
		}
	}
	return networkingv1ac.NetworkPolicy(internodePolicyName(mcc), mcc.Namespace).WithLabels(ownedLabels(mcc)).
		WithSpec(networkingv1ac.NetworkPolicySpec().
			WithPodSelector(database).
			WithPolicyTypes(networkingv1.PolicyTypeIngress).
			WithIngress(
				networkingv1ac.NetworkPolicyIngressRule().
					WithFrom(peers...).
					WithPorts(port(tcp, internodePort, internodePort), port(tcp, internodeTLSPort, internodeTLSPort)),
				networkingv1ac.NetworkPolicyIngressRule().
					WithPorts(port(tcp, 1, internodePort-1), port(tcp, internodeTLSPort+1, 65535), port(udp, 1, 65535)),
			))
}

// applyInternodePolicy writes the cluster's internode NetworkPolicy into a target.
func applyInternodePolicy(ctx context.Context, c client.Client, mcc *v1beta1.MissionControlCluster, cassandraCluster string, remote []string) error {
	if err := c.Apply(ctx, internodePolicy(mcc, cassandraCluster, remote), fieldOwner, client.ForceOwnership); err != nil {
		return fmt.Errorf("apply NetworkPolicy %s/%s: %w", mcc.Namespace, internodePolicyName(mcc), err)
	}
	return nil
}

// deleteInternodePolicy removes it, once the cluster's pods are gone.
func deleteInternodePolicy(ctx context.Context, c client.Client, mcc *v1beta1.MissionControlCluster) error {
	p := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: mcc.Namespace, Name: internodePolicyName(mcc)}}
	if err := c.Delete(ctx, p); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete NetworkPolicy %s/%s: %w", mcc.Namespace, p.Name, err)
	}
	return nil
}
