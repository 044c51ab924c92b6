package installer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	k0sapi "github.com/k0sproject/k0s/pkg/apis/k0s/v1beta1"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/kubectl/pkg/drain"

	"github.com/datastax/mission-control/internal/datadir"
	"github.com/datastax/mission-control/internal/host"
	"github.com/datastax/mission-control/internal/license"
	"github.com/datastax/mission-control/internal/pki"
	"github.com/datastax/mission-control/runtime/k0s"
)

// JoinCluster reads, with a join token's own rights, what a joining node checks: the cluster's
// join facts and its nodes.
type JoinCluster func(ctx context.Context, token k0s.JoinToken) (k0s.JoinFacts, []k0s.Node, error)

// joinPlan is join's whole run, in order. Like install's, its checks come first: the token, the
// cluster it names (its license, mode, ranges and nodes), the license, this host; then the same
// runtime is staged as install stages it, and k0s joins with the token: a worker, or a controller,
// which gets install's runtime config and manifests too (k0s applies the manifests of whichever
// controller leads).
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
	if cfg.role() == k0s.RoleWorker {
		return append(steps, writeContainerdConfig(), writeCNIConfig(), writeJoinToken(), startRuntime(), waitForNode())
	}
	return append(steps, writeRuntimeConfig(), writeContainerdConfig(), writeCNIConfig(), writeNetworkManifest(), writeJoinManifest(),
		writeJoinToken(), startRuntime(), waitForAPI(), writeKubeconfig(), waitForNode())
}

// joinTokenHelp is how to get a join token, for every error about one.
const joinTokenHelp = "print a new one on the controller with: sudo mission-control node join-command --role worker|controller"

// ReadJoinToken reads join's argument: the token itself, or a file holding it.
func ReadJoinToken(r host.Reader, arg string) (k0s.JoinToken, error) {
	arg = strings.TrimSpace(arg)
	token, err := k0s.ParseJoinToken(arg)
	if err == nil {
		return token, nil
	}
	data, err := r.ReadFile(arg)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return k0s.JoinToken{}, fmt.Errorf("join token file %s does not exist: pass the file node join-command wrote, or the token itself", arg)
	case err != nil:
		return k0s.JoinToken{}, fmt.Errorf("read the join token %s: %w", arg, err)
	}
	return k0s.ParseJoinToken(string(data))
}

// readJoinToken reads the token the plan was made for.
func readJoinToken() Step {
	return Step{
		Name:  "read-join-token",
		Title: "Read the join token",
		Check: true,
		Run: func(_ context.Context, sc *StepContext) error {
			token, err := ReadJoinToken(sc.Host, sc.Config.JoinToken)
			if err != nil {
				return err
			}
			if token.Role != sc.Config.role() {
				return fmt.Errorf("the join token joins a %s and this join was planned for a %s: run join again with the token", token.Role, sc.Config.role())
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
			switch {
			case facts.Bundle != "" && sc.Config.AirgapBundle == "":
				return fmt.Errorf("the cluster at %s was installed from the air-gap bundle %s: join with --airgap-bundle and that bundle's file", sc.Join.Server, facts.Bundle)
			case facts.Bundle == "" && sc.Config.AirgapBundle != "":
				return fmt.Errorf("the cluster at %s was installed without an air-gap bundle: join without --airgap-bundle", sc.Join.Server)
			}
			sc.Config.Mode, sc.Config.CIDR, sc.Config.PodCIDR, sc.Config.ServiceCIDR = facts.Mode, "", facts.PodCIDR, facts.ServiceCIDR
			sc.JoinFacts, sc.ClusterNodes = &facts, nodes
			sc.OIDC = facts.OIDC // a joining controller's API trusts the cluster's issuer too
			sc.Detail("%s, license %s, pods %s, services %s, %d nodes", facts.Mode, facts.LicenseID, facts.PodCIDR, facts.ServiceCIDR, len(nodes))
			if sc.Join.Role == k0s.RoleController {
				if warning := k0s.QuorumWarning(controllers(nodes) + 1); warning != "" {
					sc.Log.Warn(warning)
					sc.Detail("%s", warning)
				}
			}
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

// LiveJoinCluster reads the cluster through its API with what the token grants.
func LiveJoinCluster(ctx context.Context, token k0s.JoinToken) (k0s.JoinFacts, []k0s.Node, error) {
	config, err := joinClientConfig(ctx, token, time.Now())
	if err != nil {
		return k0s.JoinFacts{}, nil, err
	}
	client, err := kubernetes.NewForConfig(config)
	if err != nil {
		return k0s.JoinFacts{}, nil, fmt.Errorf("client for %s: %w", config.Host, err)
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

// joinClientConfig is how a joining node reads the cluster. A worker's token is a bootstrap
// credential of the API itself. A controller's is good only for k0s' join API, which hands the
// cluster's CA to the controllers it admits (k0s' controller asks it again when it starts): with
// it the check signs itself a certificate for ten minutes in the group bootstrap tokens are in,
// so that it reads exactly what a worker's check reads, and nothing more.
func joinClientConfig(ctx context.Context, token k0s.JoinToken, now time.Time) (*rest.Config, error) {
	config := &rest.Config{Host: token.Server, TLSClientConfig: rest.TLSClientConfig{CAData: token.CA}, Timeout: 10 * time.Second}
	if token.Role == k0s.RoleWorker {
		config.BearerToken = token.Bearer
		return config, nil
	}
	joinAPI := rest.CopyConfig(config)
	joinAPI.BearerToken, joinAPI.NegotiatedSerializer = token.Bearer, scheme.Codecs.WithoutConversion()
	client, err := rest.UnversionedRESTClientFor(joinAPI)
	if err != nil {
		return nil, fmt.Errorf("client for %s: %w", token.Server, err)
	}
	raw, err := client.Get().AbsPath("v1beta1", "ca").Do(ctx).Raw()
	if err != nil {
		return nil, joinAPIError(token, err)
	}
	var ca k0sapi.CaResponse
	if err := json.Unmarshal(raw, &ca); err != nil {
		return nil, fmt.Errorf("the join API at %s answered what is not a CA: %w", token.Server, err)
	}
	config.CertData, config.KeyData, err = pki.IssueClient(ca.Cert, ca.Key, "mission-control:join-check", []string{k0s.BootstrapGroup}, 10*time.Minute, now)
	if err != nil {
		return nil, fmt.Errorf("the cluster's CA from %s: %w", token.Server, err)
	}
	server, err := url.Parse(token.Server)
	if err != nil {
		return nil, fmt.Errorf("join token's server %q: %w", token.Server, err)
	}
	config.Host = "https://" + net.JoinHostPort(server.Hostname(), strconv.Itoa(k0s.APIPort))
	return config, nil
}

// controllers counts the controller nodes.
func controllers(nodes []k0s.Node) int {
	n := 0
	for _, node := range nodes {
		if node.Role == k0s.RoleController {
			n++
		}
	}
	return n
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
	// Warning is what the join means for etcd's quorum, when the user must know.
	Warning string `json:"warning,omitempty"`
}

// NewJoinToken makes a join token for role on this controller, valid for expiry. It refuses when
// the cluster already has the nodes its license covers: the join would be refused then. A
// controller's ticket warns when the join leaves an even number of controllers.
func NewJoinToken(ctx context.Context, h host.Host, dataDir, role string, expiry time.Duration, now time.Time) (JoinTicket, error) {
	if role != k0s.RoleWorker && role != k0s.RoleController {
		return JoinTicket{}, fmt.Errorf("--role %q: give --role worker or --role controller", role)
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
	ticket := JoinTicket{Role: role, Server: token.Server, TokenID: token.TokenID(), Expires: now.Add(expiry).UTC().Truncate(time.Second),
		CAPin: pin, Token: token.Encoded}
	if role == k0s.RoleController {
		ticket.Warning = k0s.QuorumWarning(controllers(nodes) + 1)
	}
	return ticket, nil
}

// NodeRemoval removes a node from the cluster of the controller in dataDir; a controller's etcd
// member goes with it.
func NodeRemoval(ctx context.Context, h host.Host, dataDir, name string, timeout time.Duration, update func(string)) (string, error) {
	l := datadir.Layout{DataDir: dataDir}
	client, err := controllerClient(h, l, "node remove")
	if err != nil {
		return "", err
	}
	self, err := k0s.NodeName(h)
	if err != nil {
		return "", err
	}
	if name == self {
		return "", fmt.Errorf("node %s is this controller: run mission-control reset on it (it leaves the cluster when other controllers remain), or node remove on another controller", name)
	}
	nodes, err := k0s.Nodes(ctx, client)
	if err != nil {
		return "", fmt.Errorf("the cluster's API does not answer (see mission-control status): %w", err)
	}
	i := slices.IndexFunc(nodes, func(n k0s.Node) bool { return n.Name == name })
	if i < 0 {
		return "", fmt.Errorf("node %s is not in the cluster: see the nodes with mission-control status", name)
	}
	node := nodes[i]
	if node.Role != k0s.RoleController {
		return RemoveNode(ctx, client, name, true, timeout, update)
	}
	peer, err := netip.ParseAddr(node.Address)
	if err != nil {
		return "", fmt.Errorf("controller %s has no address to find its etcd member by (%q)", name, node.Address)
	}
	if warning := k0s.QuorumWarning(controllers(nodes) - 1); warning != "" {
		update(warning)
	}
	detail, err := removeController(ctx, h, l, client, name, peer, false, timeout, update)
	if err != nil {
		return "", err
	}
	return detail + "; its etcd member was removed (reset that host before it rejoins)", nil
}

// removeController drains and deletes controller name's Node (by eviction: PodDisruptionBudgets
// hold), then removes its etcd member (at peer) through the controller in l: last, since that
// member's own API stops answering then. Its own reset (self) and node remove from another
// controller both take it out so.
func removeController(ctx context.Context, h host.Host, l datadir.Layout, client kubernetes.Interface, name string, peer netip.Addr, self bool,
	timeout time.Duration, update func(string)) (string, error) {
	detail, err := RemoveNode(ctx, client, name, true, timeout, update)
	if errors.Is(err, errNoSuchNode) {
		detail, err = fmt.Sprintf("node %s is not in the cluster", name), nil
	}
	if err != nil {
		return "", err
	}
	if err := k0s.RemoveEtcdMember(ctx, h, l, peer, self); err != nil {
		return "", fmt.Errorf("node %s left Kubernetes but its etcd member at %s did not (see k0s etcd member-list in mission-control shell): %w", name, peer, err)
	}
	return detail, nil
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
