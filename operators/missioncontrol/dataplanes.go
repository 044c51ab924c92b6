package missioncontrol

import (
	"context"
	"fmt"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/datastax/mission-control/internal/contract"
	"github.com/datastax/mission-control/internal/kube"
)

// DataPlane is a registered data plane and, once connected (DataPlanes.Connect), a client for it.
type DataPlane struct {
	// Name is the ClientConfig's name; Context the context it registers (spec.contextName, or
	// the name when that is empty).
	Name, Context string
	// Server is the API address the registration's kubeconfig names.
	Server string
	// Client reaches the data plane's API server; nil when Err says why it cannot be built.
	Client client.Client
	Err    error

	registration contract.Registration
}

// DataPlanes builds clients for the registered data planes from their ClientConfigs. Clients are
// cached by the ClientConfig's and the Secret's resource versions: a changed registration gets a
// new client on the next reconcile, without a restart.
type DataPlanes struct {
	// Reader reads ClientConfigs and Secrets on the control plane: the manager's cache, which
	// watches both in contract.Namespace, so a reconcile costs no API calls for them.
	Reader client.Reader
	Scheme *runtime.Scheme
	// Timeout bounds every request to a data plane, so an unreachable one costs one timeout.
	Timeout time.Duration
	// Namespace holds the registrations; empty means contract.Namespace.
	Namespace string

	mu    sync.Mutex
	cache map[string]cachedClient
}

type cachedClient struct {
	version, server string
	client          client.Client
}

func (d *DataPlanes) namespace() string {
	if d.Namespace == "" {
		return contract.Namespace
	}
	return d.Namespace
}

// List returns the registered data planes by normalized context name, not yet connected: a
// reconcile connects only those its cluster names.
func (d *DataPlanes) List(ctx context.Context) (map[string]*DataPlane, error) {
	regs, err := contract.Registrations(ctx, d.Reader, d.namespace())
	if err != nil {
		return nil, err
	}
	planes := map[string]*DataPlane{}
	seen := map[string]bool{}
	for _, reg := range regs {
		planes[contract.NormalizeContext(reg.Context)] = &DataPlane{Name: reg.Name, Context: reg.Context, registration: reg}
		seen[reg.Name] = true
	}
	d.mu.Lock()
	for name := range d.cache {
		if !seen[name] {
			delete(d.cache, name) // deregistered
		}
	}
	d.mu.Unlock()
	return planes, nil
}

// Connect gives dp its client (cached, see DataPlanes), or the reason it has none.
func (d *DataPlanes) Connect(ctx context.Context, dp *DataPlane) {
	if dp.Client == nil && dp.Err == nil {
		dp.Client, dp.Server, dp.Err = d.client(ctx, dp.registration)
	}
}

// client returns the cached client of a registration, or builds one from its kubeconfig Secret.
func (d *DataPlanes) client(ctx context.Context, reg contract.Registration) (client.Client, string, error) {
	kubeconfig, secretVersion, err := reg.Kubeconfig(ctx, d.Reader, d.namespace())
	if err != nil {
		return nil, "", err
	}
	version := reg.Version + "/" + secretVersion
	d.mu.Lock()
	cached, ok := d.cache[reg.Name]
	d.mu.Unlock()
	if ok && cached.version == version {
		return cached.client, cached.server, nil
	}
	cfg, err := kube.RegistrationRESTConfig(kubeconfig, contract.IsContext(reg.Context), d.Timeout)
	if err != nil {
		return nil, "", fmt.Errorf("kubeconfig Secret %s of ClientConfig %s: %w", reg.Secret, reg.Name, err)
	}
	limitRate(cfg)
	c, err := client.New(cfg, client.Options{Scheme: d.Scheme})
	if err != nil {
		return nil, "", fmt.Errorf("client for data plane %s: %w", reg.Context, err)
	}
	d.mu.Lock()
	if d.cache == nil {
		d.cache = map[string]cachedClient{}
	}
	d.cache[reg.Name] = cachedClient{version: version, server: cfg.Host, client: c}
	d.mu.Unlock()
	return c, cfg.Host, nil
}

// limitRate sets how many requests a client may send: a reconcile sends a handful to each of its
// clusters, and client-go's default (5 per second) would make clusters wait on each other.
func limitRate(cfg *rest.Config) {
	cfg.QPS, cfg.Burst = 50, 100
}
