package k0s

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/datastax/mission-control/internal/datadir"
	"github.com/datastax/mission-control/internal/host"
)

// EtcdMember is a member of the controllers' etcd cluster: k0s names it after its controller.
type EtcdMember struct {
	Name    string `json:"name"`
	PeerURL string `json:"peerURL"`
}

// etcdTimeout bounds each etcd command: a member that was removed, or lost its quorum, never
// answers, and k0s' client would wait on it for good.
const etcdTimeout = 20 * time.Second

// EtcdMembers lists etcd's members, asking this controller's k0s.
func EtcdMembers(ctx context.Context, h host.Host, l datadir.Layout) ([]EtcdMember, error) {
	ctx, cancel := context.WithTimeout(ctx, etcdTimeout)
	defer cancel()
	out, err := h.Run(ctx, host.Command{Name: l.K0s(), Args: []string{"etcd", "member-list", "--data-dir", l.K0sDataDir()}})
	if err != nil {
		return nil, fmt.Errorf("list etcd's members: %w", err)
	}
	return ParseEtcdMembers(out)
}

// ParseEtcdMembers reads k0s etcd member-list's output, in name order.
func ParseEtcdMembers(out []byte) ([]EtcdMember, error) {
	var list struct {
		Members map[string]string `json:"members"`
	}
	if err := json.Unmarshal(out, &list); err != nil {
		return nil, fmt.Errorf("read k0s etcd member-list's output %q: %w", strings.TrimSpace(string(out)), err)
	}
	members := make([]EtcdMember, 0, len(list.Members))
	for name, url := range list.Members {
		members = append(members, EtcdMember{Name: name, PeerURL: url})
	}
	slices.SortFunc(members, func(a, b EtcdMember) int { return strings.Compare(a.Name, b.Name) })
	return members, nil
}

// etcdStopped is what a member answers when it applies its own removal before the answer goes out:
// it stops at once, so for a controller that removes itself it means the removal took.
const etcdStopped = "etcdserver: server stopped"

// RemoveEtcdMember removes the member whose peer address is addr, through this controller's k0s;
// self says that member is this controller's own.
func RemoveEtcdMember(ctx context.Context, h host.Host, l datadir.Layout, addr netip.Addr, self bool) error {
	ctx, cancel := context.WithTimeout(ctx, etcdTimeout)
	defer cancel()
	_, err := h.Run(ctx, host.Command{Name: l.K0s(), Args: []string{"etcd", "leave", "--data-dir", l.K0sDataDir(), "--peer-address", addr.String()}})
	if err != nil && !(self && strings.Contains(err.Error(), etcdStopped)) {
		return fmt.Errorf("remove the etcd member at %s: %w", addr, err)
	}
	return nil
}

// Quorum is what n controllers mean for etcd: the members a write needs, and how many may be
// down with the cluster's API still answering.
func Quorum(n int) (quorum, tolerated int) {
	return n/2 + 1, (n - 1) / 2
}

// QuorumWarning is what a user who adds or removes controllers must know when n controllers
// tolerate no more down than n-1 would: an even count only raises the quorum.
func QuorumWarning(n int) string {
	if n < 2 || n%2 == 1 {
		return ""
	}
	quorum, tolerated := Quorum(n)
	return fmt.Sprintf("with %d controllers etcd needs %d of them up (tolerates %d down, as %d controllers would): %s", n, quorum, tolerated, n-1, evenAdvice(n))
}

func evenAdvice(n int) string {
	if n == 2 {
		return "either one down stops the cluster's API; join a third controller to tolerate one down"
	}
	return fmt.Sprintf("join a %dth controller, or run %d", n+1, n-1)
}
