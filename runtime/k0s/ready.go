package k0s

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/datastax/mission-control/internal/datadir"
	"github.com/datastax/mission-control/internal/host"
	"github.com/datastax/mission-control/internal/kube"
)

// Waiter waits for the runtime to serve, reporting what it waits for.
type Waiter struct {
	Layout datadir.Layout
	Reader host.Reader
	// Timeout bounds each wait; Poll is the interval between checks.
	Timeout, Poll time.Duration
	// Update, if set, is told what is awaited and for how long already.
	Update func(string)
	// Kubeconfig is what the waiter connects with: the admin's when empty; a joined worker has
	// only its kubelet's (KubeletKubeconfig).
	Kubeconfig string
}

func (w Waiter) kubeconfig() string { return cmp.Or(w.Kubeconfig, w.Layout.AdminKubeconfig()) }

// errTimeout ends a wait; the caller's message says what for.
var errTimeout = errors.New("timed out")

// poll calls check every Poll (a second when unset) until it succeeds, ctx ends or Timeout
// passes. check returns what it is waiting for while not done, which the timeout error repeats.
func (w Waiter) poll(ctx context.Context, what string, check func(context.Context) (bool, string)) error {
	start, last := time.Now(), ""
	err := wait.PollUntilContextTimeout(ctx, cmp.Or(w.Poll, time.Second), w.Timeout, true, func(ctx context.Context) (bool, error) {
		done, status := check(ctx)
		if !done {
			last = status
			if w.Update != nil {
				w.Update(fmt.Sprintf("%s (%s)", status, time.Since(start).Round(time.Second)))
			}
		}
		return done, nil
	})
	if err != nil && ctx.Err() == nil { // the wait's own deadline, not the caller's
		return fmt.Errorf("%w after %s waiting for %s (last: %s); see %s", errTimeout, w.Timeout, what, last, w.Layout.LogFile())
	}
	return err
}

// Client connects to the runtime's API with the waiter's kubeconfig.
func (w Waiter) Client() (*kubernetes.Clientset, error) {
	cfg, err := kube.RESTConfigFile(w.kubeconfig(), 5*time.Second)
	if err != nil {
		return nil, err
	}
	return kubernetes.NewForConfig(cfg)
}

// WaitAPI waits for k0s to write the admin kubeconfig, then for the API to answer /readyz.
func (w Waiter) WaitAPI(ctx context.Context) error {
	var client *kubernetes.Clientset
	return w.poll(ctx, "the Kubernetes API to be ready", func(ctx context.Context) (bool, string) {
		if client == nil {
			if ok, _ := w.Reader.Exists(w.kubeconfig()); !ok {
				return false, "k0s has not written " + w.kubeconfig() + " yet"
			}
			c, err := w.Client()
			if err != nil {
				return false, err.Error()
			}
			client = c
		}
		if err := Readyz(ctx, client); err != nil {
			return false, err.Error()
		}
		return true, "/readyz: ok"
	})
}

// Readyz asks the API whether it is ready; the error says why not, in one line.
func Readyz(ctx context.Context, client kubernetes.Interface) error {
	body, err := client.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
	if err != nil || strings.TrimSpace(string(body)) != "ok" {
		return errors.New("/readyz: " + firstLine(strings.TrimSpace(fmt.Sprint(err, " ", string(body)))))
	}
	return nil
}

// Node is the runtime's node as the API reports it.
type Node struct {
	Name           string `json:"name"`
	Role           string `json:"role"` // RoleController or RoleWorker
	Ready          bool   `json:"ready"`
	KubeletVersion string `json:"kubeletVersion"`
	Runtime        string `json:"containerRuntime"`
	PodCIDR        string `json:"podCIDR"`
	Address        string `json:"address"`
	Message        string `json:"message,omitempty"` // why it is not Ready
}

// k0sRoleLabel is the role k0s' kubelet registers its node with ("control-plane" on a
// controller); k0s copies it to node-role.kubernetes.io/ only on its once-a-minute pass.
const k0sRoleLabel = "node.k0sproject.io/role"

// Nodes lists the cluster's nodes.
func Nodes(ctx context.Context, client kubernetes.Interface) ([]Node, error) {
	list, err := client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list nodes: %w", err)
	}
	nodes := make([]Node, 0, len(list.Items))
	for _, n := range list.Items {
		node := Node{Name: n.Name, Role: RoleWorker, KubeletVersion: n.Status.NodeInfo.KubeletVersion, Runtime: n.Status.NodeInfo.ContainerRuntimeVersion, PodCIDR: n.Spec.PodCIDR}
		if n.Labels[k0sRoleLabel] == "control-plane" {
			node.Role = RoleController
		}
		for _, a := range n.Status.Addresses {
			if a.Type == corev1.NodeInternalIP {
				node.Address = a.Address
			}
		}
		if c, ok := kube.Condition(n.Status.Conditions, func(c corev1.NodeCondition) bool { return c.Type == corev1.NodeReady }); ok {
			node.Ready = c.Status == corev1.ConditionTrue
			if !node.Ready {
				node.Message = c.Message
			}
		}
		nodes = append(nodes, node)
	}
	return nodes, nil
}

// NodeName is this host's node name: its hostname in lowercase, as the kubelet registers it.
func NodeName(r host.Reader) (string, error) {
	name, err := r.ReadFile("/proc/sys/kernel/hostname")
	if err != nil {
		return "", fmt.Errorf("read the hostname: %w", err)
	}
	return strings.ToLower(strings.TrimSpace(string(name))), nil
}

// WaitNode waits for this host's node to register and become Ready, and returns it.
func (w Waiter) WaitNode(ctx context.Context) (Node, error) {
	name, err := NodeName(w.Reader)
	if err != nil {
		return Node{}, err
	}
	var ready Node
	var client *kubernetes.Clientset
	err = w.poll(ctx, "node "+name+" to be Ready", func(ctx context.Context) (bool, string) {
		if client == nil { // a joining worker's kubelet writes its kubeconfig once it has joined
			if ok, _ := w.Reader.Exists(w.kubeconfig()); !ok {
				return false, "k0s has not written " + w.kubeconfig() + " yet"
			}
			c, err := w.Client()
			if err != nil {
				return false, firstLine(err.Error())
			}
			client = c
		}
		nodes, err := Nodes(ctx, client)
		if err != nil {
			return false, firstLine(err.Error())
		}
		i := slices.IndexFunc(nodes, func(n Node) bool { return n.Name == name })
		switch {
		case i < 0:
			return false, "the kubelet has not registered node " + name + " yet"
		case !nodes[i].Ready:
			return false, fmt.Sprintf("node %s is not Ready: %s", name, nodes[i].Message)
		}
		ready = nodes[i]
		return true, ""
	})
	return ready, err
}

// systemWorkloads are the cluster services k0s deploys that workloads depend on: Services need
// kube-proxy, Service names need CoreDNS, registered clusters' pods the peering agent.
var systemWorkloads = []struct{ kind, name string }{{"daemonset", "kube-router"}, {"daemonset", PeeringDaemonSet}, {"daemonset", "kube-proxy"}, {"deployment", "coredns"}}

// WaitSystem waits for the pod network, kube-proxy and CoreDNS to be ready in kube-system.
func (w Waiter) WaitSystem(ctx context.Context) error {
	client, err := w.Client()
	if err != nil {
		return err
	}
	return w.poll(ctx, "the pod network, kube-proxy and CoreDNS to be ready", func(ctx context.Context) (bool, string) {
		for _, wl := range systemWorkloads {
			var ready, want int32
			switch wl.kind {
			case "daemonset":
				ds, err := client.AppsV1().DaemonSets("kube-system").Get(ctx, wl.name, metav1.GetOptions{})
				if err != nil {
					return false, wl.name + ": " + firstLine(err.Error())
				}
				ready, want = ds.Status.NumberReady, ds.Status.DesiredNumberScheduled
			default:
				d, err := client.AppsV1().Deployments("kube-system").Get(ctx, wl.name, metav1.GetOptions{})
				if err != nil {
					return false, wl.name + ": " + firstLine(err.Error())
				}
				ready, want = d.Status.ReadyReplicas, max(d.Status.Replicas, 1)
			}
			if want == 0 || ready < want {
				return false, fmt.Sprintf("%s: %d of %d ready", wl.name, ready, want)
			}
		}
		return true, ""
	})
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return line
}

// Health is the runtime's state as status reports it.
type Health struct {
	Service    string `json:"service"` // how k0s runs, or "stopped"
	Running    bool   `json:"running"`
	APIReady   bool   `json:"apiReady"`
	APIProblem string `json:"apiProblem,omitempty"`
	Nodes      []Node `json:"nodes,omitempty"`
	Healthy    bool   `json:"healthy"` // running, API ready, every node Ready
}

// Inspect reports the runtime's health, asking the API with a short timeout.
func Inspect(ctx context.Context, h host.Host, l datadir.Layout) Health {
	var health Health
	running, pid, err := Service{Layout: l, Host: h}.Running(ctx)
	switch {
	case err != nil:
		health.Service = "unknown: " + err.Error()
	case running && pid > 0:
		health.Service = fmt.Sprintf("running (supervisor pid %d, log %s)", pid, l.LogFile())
	case running:
		health.Service = "running (systemd unit " + UnitName + ")"
	default:
		health.Service = "stopped"
	}
	health.Running = running
	w := Waiter{Layout: l, Reader: h}
	if ok, _ := h.Exists(l.AdminKubeconfig()); !ok {
		w.Kubeconfig = l.KubeletKubeconfig() // a joined worker's
	}
	client, err := w.Client()
	if err != nil {
		health.APIProblem = firstLine(err.Error())
		return health
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := Readyz(ctx, client); err != nil {
		health.APIProblem = err.Error()
		return health
	}
	health.APIReady = true
	if health.Nodes, err = Nodes(ctx, client); err != nil {
		health.APIProblem = firstLine(err.Error())
		return health
	}
	health.Healthy = running && len(health.Nodes) > 0
	for _, n := range health.Nodes {
		health.Healthy = health.Healthy && n.Ready
	}
	return health
}

// AdminKubeconfig is k0s' admin kubeconfig with the API's internal address (localhost) replaced
// by the node's, which its serving certificate covers, so that it works from other hosts too.
// With a context name, its context, cluster and user are all named so (k0s names them Default,
// local and user on every host), so that kubeconfigs of several clusters merge and mcctl can
// name each by its context.
func AdminKubeconfig(r host.Reader, l datadir.Layout, node netip.Addr, contextName string) ([]byte, error) {
	data, err := r.ReadFile(l.AdminKubeconfig())
	if err != nil {
		return nil, fmt.Errorf("read k0s' admin kubeconfig: %w", err)
	}
	cfg, err := clientcmd.Load(data)
	if err != nil {
		return nil, fmt.Errorf("parse k0s' admin kubeconfig: %w", err)
	}
	for _, c := range cfg.Clusters {
		if u, err := url.Parse(c.Server); err == nil && (u.Hostname() == "localhost" || u.Hostname() == "127.0.0.1") {
			u.Host = net.JoinHostPort(node.String(), u.Port())
			c.Server = u.String()
		}
	}
	if contextName != "" {
		kctx, ok := cfg.Contexts[cfg.CurrentContext]
		if !ok || cfg.Clusters[kctx.Cluster] == nil || cfg.AuthInfos[kctx.AuthInfo] == nil {
			return nil, fmt.Errorf("k0s' admin kubeconfig has no usable current context %q", cfg.CurrentContext)
		}
		renamed := clientcmdapi.NewConfig()
		renamed.Clusters[contextName] = cfg.Clusters[kctx.Cluster]
		renamed.AuthInfos[contextName] = cfg.AuthInfos[kctx.AuthInfo]
		renamed.Contexts[contextName] = &clientcmdapi.Context{Cluster: contextName, AuthInfo: contextName, Namespace: kctx.Namespace}
		renamed.CurrentContext = contextName
		cfg = renamed
	}
	return clientcmd.Write(*cfg)
}
