package installer

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/datastax/mission-control/internal/datadir"
	"github.com/datastax/mission-control/internal/host"
	"github.com/datastax/mission-control/runtime/k0s"
)

// State is the record of an install, written to the data dir. Status, reset and re-runs read it,
// so that they need no flags repeated.
type State struct {
	Version string `json:"version"` // of the mission-control that installed
	Mode    string `json:"mode"`
	// Role is the node's: k0s.RoleController (also when empty: installs before joins) or
	// k0s.RoleWorker, a node that joined the cluster whose API is at Controller.
	Role       string `json:"role,omitempty"`
	Controller string `json:"controller,omitempty"`
	// Joined: the node joined the cluster whose API is at Controller (always true of a worker).
	Joined           bool   `json:"joined,omitempty"`
	ReleaseName      string `json:"releaseName"`
	ContextName      string `json:"contextName,omitempty"`
	DataDir          string `json:"dataDir"`
	CIDR             string `json:"cidr,omitempty"`
	PodCIDR          string `json:"podCIDR"`
	ServiceCIDR      string `json:"serviceCIDR"`
	NetworkInterface string `json:"networkInterface"`
	NodeAddress      string `json:"nodeAddress"`
	LicenseID        string `json:"licenseID"`
	// StorageClass is the default StorageClass's name.
	StorageClass string `json:"storageClass,omitempty"`
	// TelemetryAggregatorURL is where this data plane sends telemetry, when given.
	TelemetryAggregatorURL string `json:"telemetryAggregatorURL,omitempty"`
	// Airgap: installed from an air-gap bundle; database images are never pulled.
	Airgap bool `json:"airgap,omitempty"`
	// Runtime are the versions of the runtime installed, from the payload's manifest.
	Runtime map[string]string `json:"runtime,omitempty"`
}

// stateOf is the state the install being run will record.
func stateOf(sc *StepContext) State {
	s := State{
		Version:          sc.Version,
		Mode:             sc.Config.Mode,
		Role:             sc.Config.role(),
		Joined:           sc.Config.joins(),
		ReleaseName:      sc.Config.ReleaseName,
		ContextName:      sc.Config.ContextName,
		DataDir:          sc.Config.DataDir,
		PodCIDR:          sc.Plan.PodCIDR.String(),
		ServiceCIDR:      sc.Plan.ServiceCIDR.String(),
		NetworkInterface: sc.Node.Interface,
		NodeAddress:      sc.Node.Address.String(),
		Airgap:           sc.Config.AirgapBundle != "",
		StorageClass:     sc.Config.StorageClassName,

		TelemetryAggregatorURL: sc.Config.TelemetryAggregatorURL,
	}
	if sc.Plan.CIDR.IsValid() {
		s.CIDR = sc.Plan.CIDR.String()
	}
	if sc.License != nil {
		s.LicenseID = sc.License.Spec.LicenseID
	}
	if sc.Join != nil {
		s.Controller = sc.Join.Server
	}
	if sc.Payload != nil {
		if p, err := sc.Payload(); err == nil {
			s.Runtime = map[string]string{}
			for _, k := range []string{"K0S_VERSION", "KUBERNETES_VERSION", "ETCD_VERSION", "COREDNS_VERSION"} {
				if v := p.Manifest.Versions[k]; v != "" {
					s.Runtime[strings.ToLower(strings.TrimSuffix(k, "_VERSION"))] = v
				}
			}
		}
	}
	return s
}

func (s State) marshal() ([]byte, error) {
	b, err := yaml.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("encode install state: %w", err)
	}
	return append([]byte("# Written by mission-control install. Do not edit: reset and install again to change it.\n"), b...), nil
}

// ErrNotInstalled means the data dir holds no install.
var ErrNotInstalled = errors.New("mission-control is not installed")

// LoadState reads the install state from the data dir. It returns ErrNotInstalled when there is none.
func LoadState(r host.Reader, p datadir.Layout) (State, error) {
	data, err := r.ReadFile(p.State())
	if errors.Is(err, fs.ErrNotExist) {
		return State{}, ErrNotInstalled
	}
	if err != nil {
		return State{}, fmt.Errorf("read install state: %w", err)
	}
	var s State
	if err := yaml.UnmarshalStrict(data, &s); err != nil {
		return State{}, fmt.Errorf("install state %s is damaged (%s): run mission-control reset", p.State(), strings.Join(strings.Fields(err.Error()), " "))
	}
	return s, nil
}

// conflicts lists how a new install differs from the recorded one in ways a re-run cannot
// reconcile: the runtime was built on the recorded values.
func (s State) conflicts(next State) []string {
	var diffs []string
	for _, f := range []struct{ name, old, new string }{
		{"mode", s.Mode, next.Mode},
		{"node role", cmp.Or(s.Role, k0s.RoleController), next.Role},
		{"joined cluster", cmp.Or(s.Controller, "none"), cmp.Or(next.Controller, "none")},
		{"release name", s.ReleaseName, next.ReleaseName},
		{"context name", s.ContextName, next.ContextName},
		{"pod range", s.PodCIDR, next.PodCIDR},
		{"service range", s.ServiceCIDR, next.ServiceCIDR},
		{"node address", s.NodeAddress, next.NodeAddress},
		{"mission-control version", s.Version, next.Version},
		{"image source", source(s.Airgap), source(next.Airgap)},
		{"default StorageClass", s.StorageClass, next.StorageClass},
	} {
		if f.old != f.new {
			diffs = append(diffs, fmt.Sprintf("%s %s (requested %s)", f.name, f.old, f.new))
		}
	}
	return diffs
}

func source(airgap bool) string {
	if airgap {
		return "an air-gap bundle"
	}
	return "the binary and registries"
}
