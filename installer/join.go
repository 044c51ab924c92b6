package installer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/kubectl/pkg/drain"

	"github.com/datastax/mission-control/internal/datadir"
	"github.com/datastax/mission-control/internal/host"
	"github.com/datastax/mission-control/internal/license"
	"github.com/datastax/mission-control/runtime/k0s"
)

// JoinCluster reads, with a join token's own rights, what a joining node checks: the cluster's
// join facts and its nodes.
type JoinCluster func(ctx context.Context, token k0s.JoinToken) (k0s.JoinFacts, []k0s.Node, error)

// joinPlan is join's whole run, in order. Like install's, its checks come first: the token, the
// cluster it names (its license, mode, ranges and nodes), the license, this host; then the same
// runtime is staged as install stages it, and k0s' worker joins with the token.
func joinPlan(cfg Config) []Step {
	steps := []Step{readJoinToken(), checkJoinCluster(), verifyLicense(), checkNodeLimit(), planNetwork(), checkInstallState(), hostPreflights()}
	if cfg.AirgapBundle != "" {
		steps = append(steps, verifyAirgapBundle())
	}
	steps = append(steps, prepareDataDir(), writeInstallState(), recordLicense(), writePreflightResults())
	steps = append(steps, stageRuntimeSteps()...)
	if cfg.AirgapBundle != "" {
		steps = append(steps, stageAirgapImages())
	}
	return append(steps, writeContainerdConfig(), writeCNIConfig(), writeJoinToken(), startRuntime(), waitForJoinedNode())
}

// joinTokenHelp is how to get a join token, for every error about one.
const joinTokenHelp = "print a new one on the controller with: sudo mission-control node join-command --role worker"

// readJoinToken reads join's argument: a file holding the token, or the token itself.
func readJoinToken() Step {
	return Step{
		Name:  "read-join-token",
		Title: "Read the join token",
		Check: true,
		Run: func(_ context.Context, sc *StepContext) error {
			arg := strings.TrimSpace(sc.Config.JoinToken)
			token, err := k0s.ParseJoinToken(arg)
			if err != nil { // not the token itself: the file holding it
				data, readErr := sc.Host.ReadFile(arg)
				switch {
				case errors.Is(readErr, fs.ErrNotExist):
					return fmt.Errorf("join token file %s does not exist: pass the file node join-command wrote, or the token itself", arg)
				case readErr != nil:
					return fmt.Errorf("read the join token %s: %w", arg, readErr)
				}
				if token, err = k0s.ParseJoinToken(string(data)); err != nil {
					return err
				}
			}
			if token.Role != k0s.RoleWorker {
				return fmt.Errorf("the join token joins a %s; only workers join yet: %s", token.Role, joinTokenHelp)
			}
			pin, err := token.CAPin()
			if err != nil {
				return err
			}
			sc.Join = &token
			sc.Detail("a %s of %s (token %s, CA %s)", token.Role, token.Server, token.TokenID(), pin)
			return nil
		},
	}
}

// checkJoinCluster asks the cluster for its join facts: the joining node takes on the cluster's
// mode and ranges, and must run the same mission-control.
func checkJoinCluster() Step {
	return Step{
		Name:  "check-cluster",
		Title: "Check the cluster to join",
		Check: true,
		Run: func(ctx context.Context, sc *StepContext) error {
			facts, nodes, err := sc.JoinCluster(ctx, *sc.Join)
			if err != nil {
				return err
			}
			if facts.Version != sc.Version {
				return fmt.Errorf("the cluster at %s runs mission-control %s and this is %s: join with the binary of its version", sc.Join.Server, facts.Version, sc.Version)
			}
			sc.Config.Mode, sc.Config.CIDR, sc.Config.PodCIDR, sc.Config.ServiceCIDR = facts.Mode, "", facts.PodCIDR, facts.ServiceCIDR
			sc.JoinFacts, sc.ClusterNodes = &facts, nodes
			sc.Detail("%s, license %s, pods %s, services %s, %d nodes", facts.Mode, facts.LicenseID, facts.PodCIDR, facts.ServiceCIDR, len(nodes))
			return nil
		},
	}
}

// checkNodeLimit holds the cluster to its license: the license given must be the cluster's, and
// the node joining must not take it past its maxNodes. A node rejoining under its old name (its
// Node object left behind) is not counted twice.
func checkNodeLimit() Step {
	return Step{
		Name:  "check-node-limit",
		Title: "Check the license's node limit",
		Check: true,
		Run: func(_ context.Context, sc *StepContext) error {
			l, facts := sc.License, sc.JoinFacts
			if l.Spec.LicenseID != facts.LicenseID {
				return fmt.Errorf("--license is %s and the cluster was installed with %s: join with the cluster's license file", l.Spec.LicenseID, facts.LicenseID)
			}
			name, err := k0s.NodeName(sc.Host)
			if err != nil {
				return err
			}
			var others []string
			for _, n := range sc.ClusterNodes {
				if n.Name != name {
					others = append(others, n.Name)
				}
			}
			limit := l.Spec.Entitlements.MaxNodes
			if len(others)+1 > limit {
				return fmt.Errorf("license %s covers %d nodes and the cluster has %d (%s): request a license for more nodes, or remove one with mission-control node remove", l.Spec.LicenseID, limit, len(others), strings.Join(others, ", "))
			}
			sc.Detail("node %s is %d of the %d the license covers", name, len(others)+1, limit)
			return nil
		},
	}
}

// writeJoinToken keeps the token where k0s' worker reads it (root only: it is a credential
// until it expires).
func writeJoinToken() Step {
	return writeFile("write-join-token", "Write the join token for the runtime", func(sc *StepContext) string { return sc.Paths.JoinTokenFile() },
		func(sc *StepContext) ([]byte, error) {
			if sc.Join == nil {
				return nil, errors.New("no join token was read")
			}
			return []byte(sc.Join.Encoded + "\n"), nil
		})
}

// waitForJoinedNode waits for this node to be Ready in the cluster; reset undoes the join from
// the cluster's side first (while the runtime still runs): the node is drained and its Node
// deleted, when the controller answers.
func waitForJoinedNode() Step {
	s := waitStep("wait-for-node", "Wait for the node to be Ready", Cluster.WaitNode)
	s.Undo = func(ctx context.Context, sc *StepContext) error {
		detail, err := sc.Cluster.LeaveCluster(ctx, sc)
		if err != nil {
			// The host is reset all the same: the controller may be gone for good.
			sc.Log.Warn("the cluster could not be told this node leaves; remove it there with: mission-control node remove", "error", err)
			sc.Detail("NOT removed from the cluster (%v): on the controller run mission-control node remove", err)
			return nil
		}
		sc.Detail("%s", detail)
		return nil
	}
	return s
}

// LiveJoinCluster reads the cluster through its API with the token's bootstrap credentials.
func LiveJoinCluster(ctx context.Context, token k0s.JoinToken) (k0s.JoinFacts, []k0s.Node, error) {
	client, err := kubernetes.NewForConfig(&rest.Config{Host: token.Server, BearerToken: token.Bearer,
		TLSClientConfig: rest.TLSClientConfig{CAData: token.CA}, Timeout: 10 * time.Second})
	if err != nil {
		return k0s.JoinFacts{}, nil, fmt.Errorf("client for %s: %w", token.Server, err)
	}
	cm, err := client.CoreV1().ConfigMaps(metav1.NamespaceSystem).Get(ctx, k0s.JoinConfigMap, metav1.GetOptions{})
	if err != nil {
		return k0s.JoinFacts{}, nil, joinAPIError(token, err)
	}
	facts, err := k0s.JoinFactsFrom(cm.Data)
	if err != nil {
		return k0s.JoinFacts{}, nil, err
	}
	nodes, err := k0s.Nodes(ctx, client)
	if err != nil {
		return k0s.JoinFacts{}, nil, joinAPIError(token, err)
	}
	return facts, nodes, nil
}

// joinAPIError says what a refusal of the cluster means for the user.
func joinAPIError(token k0s.JoinToken, err error) error {
	var status apierrors.APIStatus
	switch {
	case apierrors.IsUnauthorized(err):
		return fmt.Errorf("the cluster at %s refused the join token %s (it expired or was deleted): %s", token.Server, token.TokenID(), joinTokenHelp)
	case apierrors.IsForbidden(err), apierrors.IsNotFound(err):
		return fmt.Errorf("the cluster at %s does not let nodes join (no %s ConfigMap readable with a join token): is it a mission-control controller of this version? %v", token.Server, k0s.JoinConfigMap, err)
	case errors.As(err, &status) && status.Status().Code >= http.StatusInternalServerError:
		return fmt.Errorf("the cluster at %s failed to answer: %w", token.Server, err)
	}
	return fmt.Errorf("cannot reach the cluster at %s (check that this host reaches it, and its firewall lets 6443 in): %w", token.Server, err)
}

// errNoSuchNode: the node to remove is not in the cluster.
var errNoSuchNode = errors.New("no such node")

// RemoveNode drains the node and deletes its Node. evict: through the eviction API, which keeps
// PodDisruptionBudgets (an admin's rights); otherwise by deleting the pods, with their grace
// periods, which is what a kubelet's own credentials may do for the pods bound to its node. The
// pods' controllers place them elsewhere; DaemonSets' pods go with the node.
func RemoveNode(ctx context.Context, client kubernetes.Interface, name string, evict bool, timeout time.Duration, update func(string)) (string, error) {
	moved := 0
	helper := &drain.Helper{Ctx: ctx, Client: client, Force: true, GracePeriodSeconds: -1, IgnoreAllDaemonSets: true,
		DeleteEmptyDirData: true, DisableEviction: !evict, Timeout: timeout, Out: io.Discard, ErrOut: io.Discard,
		OnPodDeletionOrEvictionFinished: func(p *corev1.Pod, _ bool, err error) {
			if err == nil {
				moved++
				update(fmt.Sprintf("moved %s/%s off node %s", p.Namespace, p.Name, name))
			}
		}}
	node, err := client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return "", fmt.Errorf("node %s is not in the cluster: %w", name, errNoSuchNode)
	}
	if err != nil {
		return "", fmt.Errorf("read node %s: %w", name, err)
	}
	if evict { // a kubelet may not cordon its own node; deleting its pods then suffices
		if err := drain.RunCordonOrUncordon(helper, node, true); err != nil {
			return "", fmt.Errorf("cordon node %s: %w", name, err)
		}
	}
	if err := drain.RunNodeDrain(helper, name); err != nil {
		return "", fmt.Errorf("drain node %s: %w", name, err)
	}
	if err := client.CoreV1().Nodes().Delete(ctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return "", fmt.Errorf("delete node %s: %w", name, err)
	}
	return fmt.Sprintf("node %s drained (%d pods moved) and removed from the cluster", name, moved), nil
}

// JoinTicket is what node join-command prints: a new join token and how to check it.
type JoinTicket struct {
	Role    string    `json:"role"`
	Server  string    `json:"server"`
	TokenID string    `json:"tokenID"`
	Expires time.Time `json:"expires"`
	CAPin   string    `json:"caPin"`
	Token   string    `json:"token"`
}

// NewJoinToken makes a join token for role on this controller, valid for expiry. It refuses when
// the cluster already has the nodes its license covers: the join would be refused then.
func NewJoinToken(ctx context.Context, h host.Host, dataDir, role string, expiry time.Duration, now time.Time) (JoinTicket, error) {
	if role != k0s.RoleWorker {
		return JoinTicket{}, fmt.Errorf("--role %s: only workers join yet (--role worker); a second controller would leave etcd without quorum whenever either is down", role)
	}
	if expiry < time.Minute || expiry > 7*24*time.Hour {
		return JoinTicket{}, fmt.Errorf("--expiry %s: give between 1m and 168h (e.g. --expiry 24h)", expiry)
	}
	l := datadir.Layout{DataDir: dataDir}
	client, err := controllerClient(h, l, "node join-command")
	if err != nil {
		return JoinTicket{}, err
	}
	data, err := h.ReadFile(l.License())
	if err != nil {
		return JoinTicket{}, fmt.Errorf("read the install's license: %w", err)
	}
	lic, err := license.Parse(data)
	if err != nil {
		return JoinTicket{}, fmt.Errorf("the install's license %s: %w", l.License(), err)
	}
	nodes, err := k0s.Nodes(ctx, client)
	if err != nil {
		return JoinTicket{}, fmt.Errorf("the cluster's API does not answer (see mission-control status): %w", err)
	}
	if limit := lic.Spec.Entitlements.MaxNodes; len(nodes) >= limit {
		return JoinTicket{}, fmt.Errorf("license %s covers %d nodes and the cluster has %d: request a license for more nodes, or remove one with mission-control node remove", lic.Spec.LicenseID, limit, len(nodes))
	}
	out, err := h.Run(ctx, host.Command{Name: l.K0s(), Args: []string{"token", "create", "--role", role,
		"--expiry", expiry.String(), "--data-dir", l.K0sDataDir()}})
	if err != nil {
		return JoinTicket{}, fmt.Errorf("make a join token: %w", err)
	}
	token, err := k0s.ParseJoinToken(string(out))
	if err != nil {
		return JoinTicket{}, fmt.Errorf("k0s made a token mission-control cannot read: %w", err)
	}
	pin, err := token.CAPin()
	if err != nil {
		return JoinTicket{}, err
	}
	return JoinTicket{Role: role, Server: token.Server, TokenID: token.TokenID(), Expires: now.Add(expiry).UTC().Truncate(time.Second),
		CAPin: pin, Token: token.Encoded}, nil
}

// NodeRemoval removes a node from the cluster of the controller in dataDir.
func NodeRemoval(ctx context.Context, h host.Host, dataDir, name string, timeout time.Duration, update func(string)) (string, error) {
	client, err := controllerClient(h, datadir.Layout{DataDir: dataDir}, "node remove")
	if err != nil {
		return "", err
	}
	self, err := k0s.NodeName(h)
	if err != nil {
		return "", err
	}
	if name == self {
		return "", fmt.Errorf("node %s is this controller: it cannot remove itself; mission-control reset removes the whole cluster", name)
	}
	detail, err := RemoveNode(ctx, client, name, true, timeout, update)
	if errors.Is(err, errNoSuchNode) {
		return "", fmt.Errorf("node %s is not in the cluster: see the nodes with mission-control status", name)
	}
	return detail, err
}

// controllerClient is the admin client of the controller installed in l, for a command that
// only a controller runs; it names the fix when l holds no install or a worker's.
func controllerClient(h host.Host, l datadir.Layout, command string) (kubernetes.Interface, error) {
	state, err := LoadState(h, l)
	if errors.Is(err, ErrNotInstalled) {
		return nil, fmt.Errorf("mission-control is not installed in %s: run %s on the cluster's controller, or pass its --data-dir", l.DataDir, command)
	}
	if err != nil {
		return nil, err
	}
	if state.Role == k0s.RoleWorker {
		return nil, fmt.Errorf("this host is a worker of the cluster at %s: run %s on its controller", state.Controller, command)
	}
	return k0s.Waiter{Layout: l, Reader: h}.Client()
}
