package k0s

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/datastax/mission-control/internal/datadir"
	"github.com/datastax/mission-control/internal/host"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

func TestParseEtcdMembers(t *testing.T) {
	got, err := ParseEtcdMembers([]byte(`{"members":{"ctl-2":"https://10.89.0.3:2380","ctl-1":"https://10.89.0.2:2380"}}` + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != (EtcdMember{"ctl-1", "https://10.89.0.2:2380"}) || got[1].Name != "ctl-2" {
		t.Errorf("members %v: want both, in name order", got)
	}
	if _, err := ParseEtcdMembers([]byte("level=error msg=\"can't list\"")); err == nil || !strings.Contains(err.Error(), "member-list") {
		t.Errorf("junk output: %v", err)
	}
}

func TestQuorum(t *testing.T) {
	for n, want := range map[int][2]int{1: {1, 0}, 2: {2, 0}, 3: {2, 1}, 4: {3, 1}, 5: {3, 2}} {
		if q, tol := Quorum(n); q != want[0] || tol != want[1] {
			t.Errorf("Quorum(%d) = %d, %d; want %d, %d", n, q, tol, want[0], want[1])
		}
	}
	for _, n := range []int{1, 3, 5} {
		if w := QuorumWarning(n); w != "" {
			t.Errorf("%d controllers warned: %s", n, w)
		}
	}
	if w := QuorumWarning(2); !strings.Contains(w, "either one down stops the cluster's API; join a third controller") {
		t.Errorf("2 controllers: %q", w)
	}
	if w := QuorumWarning(4); !strings.Contains(w, "tolerates 1 down, as 3 controllers would") {
		t.Errorf("4 controllers: %q", w)
	}
}

// TestNodesRoles: a node's role is the one k0s' kubelet registers it with, there from the start
// (the node-role.kubernetes.io/ copy k0s makes comes up to a minute later).
func TestNodesRoles(t *testing.T) {
	client := fake.NewClientset(
		&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "ctl-2", Labels: map[string]string{"node.k0sproject.io/role": "control-plane"}}},
		&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "worker-1", Labels: map[string]string{"node.k0sproject.io/role": "worker"}}},
	)
	nodes, err := Nodes(context.Background(), client)
	if err != nil {
		t.Fatal(err)
	}
	roles := map[string]string{}
	for _, n := range nodes {
		roles[n.Name] = n.Role
	}
	if roles["ctl-2"] != RoleController || roles["worker-1"] != RoleWorker {
		t.Errorf("roles %v", roles)
	}
}

// leavingHost answers `k0s etcd leave` as a member that applies its own removal before its answer
// goes out does.
type leavingHost struct{ *host.Recorder }

func (s leavingHost) Run(ctx context.Context, c host.Command) ([]byte, error) {
	if len(c.Args) > 1 && c.Args[0] == "etcd" && c.Args[1] == "leave" {
		return nil, &host.ExecError{Cmd: c.String(), Err: errors.New("exit status 1"), Output: []byte("Error: etcdserver: server stopped\n")}
	}
	return s.Recorder.Run(ctx, c)
}

// TestRemoveEtcdMemberStopped: a controller that removes its own member may hear only that its
// etcd stopped, which is the removal taking; from another controller it is a failure.
func TestRemoveEtcdMemberStopped(t *testing.T) {
	l := datadir.Layout{DataDir: "/data"}
	h := leavingHost{host.NewRecorder(fakeReader{})}
	addr := netip.MustParseAddr("10.89.0.4")
	if err := RemoveEtcdMember(context.Background(), h, l, addr, true); err != nil {
		t.Fatalf("own member: %v", err)
	}
	err := RemoveEtcdMember(context.Background(), h, l, addr, false)
	if err == nil || !strings.Contains(err.Error(), "remove the etcd member at 10.89.0.4") {
		t.Fatalf("another's member: got %v, want the removal's error", err)
	}
}
