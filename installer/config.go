// Package installer installs and resets mission-control on a host: an ordered plan of named,
// idempotent steps over a host.Host, with progress journaled in the data dir so that a re-run
// resumes and reset can undo a partial install.
package installer

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"helm.sh/helm/v3/pkg/chartutil"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/datastax/mission-control/internal/contract"
	"github.com/datastax/mission-control/internal/datadir"
	"github.com/datastax/mission-control/internal/license"
	"github.com/datastax/mission-control/internal/network"
	"github.com/datastax/mission-control/runtime/k0s"
)

// Modes install can set up.
const (
	ModeControlPlane = license.ModeControlPlane
	ModeDataPlane    = license.ModeDataPlane
)

// Defaults for install's flags.
const (
	DefaultReleaseName = "mission-control"
	// DefaultStorageClass is the default StorageClass's name; a class named standard (the docs'
	// manifests name it) is made beside it.
	DefaultStorageClass = "mission-control-local"
	// DefaultVolumeSpace is the room preflights count for volumes: the docs' datacenter, three
	// Cassandra nodes of 2Gi each.
	DefaultVolumeSpace = "6Gi"
)

// Config is everything install is asked to do. Flags map onto it one to one.
type Config struct {
	LicenseFile          string // --license
	CIDR                 string // --cidr; empty when PodCIDR and ServiceCIDR are given
	PodCIDR              string // --pod-cidr
	ServiceCIDR          string // --service-cidr
	Mode                 string // --mode
	DataDir              string // --data-dir
	AirgapBundle         string // --airgap-bundle
	NetworkInterface     string // --network-interface; empty: the default route's
	ReleaseName          string // --release-name
	ContextName          string // --context-name
	StorageClassName     string // --storage-class-name: the default StorageClass
	VolumeSpace          string // --volume-space: room for volumes on the data dir's filesystem, e.g. 100Gi
	IgnoreHostPreflights bool   // --ignore-host-preflights
	// TelemetryAggregatorURL is where a data plane sends telemetry: the control plane's aggregator,
	// on port 30600 of any of its nodes (--telemetry-aggregator-url).
	TelemetryAggregatorURL string
	// Role is the node's: k0s.RoleController (when empty) or k0s.RoleWorker, the join token's
	// role for join.
	Role string
	// Joined: the node joins a cluster (join) rather than makes one (install); a worker always
	// joins.
	Joined bool
	// JoinToken is join's argument: a join token, or a file holding one.
	JoinToken string
	// OIDC* make a control plane's Kubernetes API, and so the Mission Control UI, accept ID tokens
	// of an OpenID Connect issuer (--oidc-issuer-url, --oidc-client-id, --oidc-username-claim,
	// --oidc-groups-claim, --oidc-ca-file).
	OIDCIssuerURL, OIDCClientID, OIDCUsernameClaim, OIDCGroupsClaim, OIDCCAFile string
}

// DefaultOIDCUsernameClaim is the ID token claim users are known by to RBAC.
const DefaultOIDCUsernameClaim = "email"

var claimName = regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,64}$`)

// validateOIDC checks the --oidc-* flags without touching the host.
func (c Config) validateOIDC(add func(format string, args ...any)) {
	if c.OIDCIssuerURL == "" {
		if c.OIDCClientID != "" || c.OIDCGroupsClaim != "" || c.OIDCCAFile != "" || (c.OIDCUsernameClaim != "" && c.OIDCUsernameClaim != DefaultOIDCUsernameClaim) {
			add("--oidc-* flags need --oidc-issuer-url: give the issuer's URL, e.g. --oidc-issuer-url https://sso.example.com/realms/ops")
		}
		return
	}
	if c.Mode != ModeControlPlane {
		add("--oidc-issuer-url %q: only a control plane signs users in (its Mission Control UI); leave it out of a data plane's install", c.OIDCIssuerURL)
	}
	u, err := url.Parse(c.OIDCIssuerURL)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		add("--oidc-issuer-url %q is not an issuer: give its https:// URL exactly as its ID tokens' iss claim, e.g. --oidc-issuer-url https://sso.example.com/realms/ops", c.OIDCIssuerURL)
	}
	if c.OIDCClientID == "" {
		add("--oidc-issuer-url needs --oidc-client-id: the client ID the issuer's ID tokens name as audience, e.g. --oidc-client-id mission-control")
	}
	for flag, claim := range map[string]string{"--oidc-username-claim": c.OIDCUsernameClaim, "--oidc-groups-claim": c.OIDCGroupsClaim} {
		if claim != "" && !claimName.MatchString(claim) {
			add("%s %q is not a claim name: give one like email or groups", flag, claim)
		}
	}
	if c.OIDCCAFile != "" && !safePath.MatchString(c.OIDCCAFile) {
		add("--oidc-ca-file %q: give a path of letters, digits, '/', '.', '_' and '-', e.g. --oidc-ca-file /etc/ssl/sso-ca.pem", c.OIDCCAFile)
	}
}

func (c Config) joins() bool { return c.Joined || c.role() == k0s.RoleWorker }

func (c Config) role() string {
	if c.Role == "" {
		return k0s.RoleController
	}
	return c.Role
}

// DefaultConfig is install's configuration when no flag is given.
func DefaultConfig() Config {
	return Config{
		CIDR:             network.DefaultCIDR,
		Mode:             ModeControlPlane,
		DataDir:          datadir.Default,
		ReleaseName:      DefaultReleaseName,
		StorageClassName: DefaultStorageClass,
		VolumeSpace:      DefaultVolumeSpace,
	}
}

// VolumeBytes is the room for volumes preflights count, in bytes; ValidateTarget refuses what
// does not parse.
func (c Config) VolumeBytes() (uint64, error) {
	q, err := resource.ParseQuantity(c.VolumeSpace)
	if err != nil || q.Sign() < 0 {
		return 0, fmt.Errorf("--volume-space %q is not a size: give the room volumes need on the data dir's filesystem, e.g. --volume-space 100Gi (0 counts none)", c.VolumeSpace)
	}
	return uint64(q.Value()), nil
}

// deployments are the platform's Deployments the mode runs: its operators and the provisioner.
func (c Config) deployments() []string { return contract.Deployments(c.Mode == ModeControlPlane) }

// Paths places the config's files under its data dir.
func (c Config) Paths() datadir.Layout { return datadir.Layout{DataDir: c.DataDir} }

// systemDirs may never be a data dir: reset removes the data dir.
var systemDirs = []string{
	"/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib32", "/lib64", "/media", "/mnt",
	"/opt", "/proc", "/root", "/run", "/sbin", "/srv", "/sys", "/tmp", "/usr", "/usr/bin",
	"/usr/lib", "/usr/local", "/usr/local/bin", "/usr/sbin", "/var", "/var/lib", "/var/log",
	"/var/run", "/var/tmp",
}

var (
	safePath      = regexp.MustCompile(`^[A-Za-z0-9/._-]+$`)
	contextName   = regexp.MustCompile(`^[A-Za-z0-9][-A-Za-z0-9_.]{0,62}$`)
	interfaceName = regexp.MustCompile(`^[^/\s:]{1,15}$`)
)

// Validate checks the config without touching the host and returns every problem, each a
// one-line message naming the flag and the fix.
func (c Config) Validate() []error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	c.validateOIDC(add)
	if c.LicenseFile == "" {
		add("--license is required: pass the license file you were issued, e.g. --license license.yaml")
	}
	if c.joins() {
		return append(errs, c.validateJoin()...)
	}
	errs = append(errs, c.ValidateTarget()...)
	switch {
	case c.ReleaseName == "":
		add("--release-name is empty: use a name such as %s", DefaultReleaseName)
	case chartutil.ValidateReleaseName(c.ReleaseName) != nil:
		add("--release-name %q is not a Helm release name (at most 53 lowercase letters, digits, '-' and '.'), e.g. %s", c.ReleaseName, DefaultReleaseName)
	}
	if c.ContextName != "" && !contextName.MatchString(c.ContextName) {
		add("--context-name %q is not a context name: use letters, digits, '-', '_' and '.', at most 63, e.g. CP_EAST", c.ContextName)
	}
	if problems := validation.IsDNS1123Subdomain(c.StorageClassName); len(problems) > 0 {
		add("--storage-class-name %q is not a StorageClass name (lowercase letters, digits, '-' and '.', at most 253): use e.g. %s", c.StorageClassName, DefaultStorageClass)
	}
	return errs
}

// ValidateTarget checks what preflights need: the mode, the data dir, the node interface and the
// network ranges.
func (c Config) ValidateTarget() []error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.Mode != ModeControlPlane && c.Mode != ModeDataPlane {
		add("--mode %q is not a mode: use %s or %s", c.Mode, ModeControlPlane, ModeDataPlane)
	}
	if err := ValidateDataDir(c.DataDir); err != nil {
		errs = append(errs, err)
	}
	if c.NetworkInterface != "" && !interfaceName.MatchString(c.NetworkInterface) {
		add("--network-interface %q is not an interface name; list them with: ip -br link", c.NetworkInterface)
	}
	if _, err := c.NetworkPlan(); err != nil {
		errs = append(errs, err)
	}
	if _, err := c.VolumeBytes(); err != nil {
		errs = append(errs, err)
	}
	if _, err := c.TelemetryAggregator(); err != nil {
		errs = append(errs, err)
	}
	return errs
}

// TelemetryAggregatorPort is where the control plane serves the telemetry aggregator, on every
// node.
const TelemetryAggregatorPort = "30600"

// TelemetryAggregator is the host:port of --telemetry-aggregator-url (port 30600 when the URL
// names none), or "" when it is not given. Only a data plane takes it: a control plane runs the
// aggregator.
func (c Config) TelemetryAggregator() (string, error) {
	raw := c.TelemetryAggregatorURL
	if raw == "" {
		return "", nil
	}
	if c.Mode != ModeDataPlane {
		return "", fmt.Errorf("--telemetry-aggregator-url is for data planes (--mode data-plane): a control plane runs the aggregator itself")
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || u.User != nil || u.RawQuery != "" || strings.Trim(u.Path, "/") != "" {
		return "", fmt.Errorf("--telemetry-aggregator-url %q is not the aggregator's address: give http:// and a control plane node's address, e.g. --telemetry-aggregator-url http://10.0.0.5:%s", raw, TelemetryAggregatorPort)
	}
	port := u.Port()
	if port == "" {
		port = TelemetryAggregatorPort
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("--telemetry-aggregator-url %q: port %s is not a port: the aggregator listens on %s", raw, port, TelemetryAggregatorPort)
	}
	return net.JoinHostPort(u.Hostname(), port), nil
}

// validateJoin checks join's config: the cluster's ranges and mode come from the cluster.
func (c Config) validateJoin() []error {
	var errs []error
	if strings.TrimSpace(c.JoinToken) == "" {
		errs = append(errs, errors.New("join needs the join token: pass the file node join-command wrote, or the token, e.g. mission-control join --license license.yaml worker.token"))
	}
	if err := ValidateDataDir(c.DataDir); err != nil {
		errs = append(errs, err)
	}
	if c.NetworkInterface != "" && !interfaceName.MatchString(c.NetworkInterface) {
		errs = append(errs, fmt.Errorf("--network-interface %q is not an interface name; list them with: ip -br link", c.NetworkInterface))
	}
	if _, err := c.VolumeBytes(); err != nil {
		errs = append(errs, err)
	}
	return errs
}

// ValidateDataDir refuses a --data-dir that is empty, relative, unclean or a system directory:
// install makes it and reset removes it, and support-bundle collects what is in it.
func ValidateDataDir(dir string) error {
	switch {
	case dir == "":
		return fmt.Errorf("--data-dir is empty: use a dedicated directory such as %s", datadir.Default)
	case !filepath.IsAbs(dir):
		return fmt.Errorf("--data-dir %q is relative: use an absolute path such as %s", dir, datadir.Default)
	case !safePath.MatchString(dir):
		return fmt.Errorf("--data-dir %q may contain only letters, digits, '/', '.', '_' and '-'", dir)
	case filepath.Clean(dir) != dir:
		return fmt.Errorf("--data-dir %q is not a clean path: write it as %s", dir, filepath.Clean(dir))
	case slices.Contains(systemDirs, dir):
		return fmt.Errorf("--data-dir %s is a system directory, and reset removes the data dir: use a dedicated one such as %s", dir, datadir.Default)
	}
	return nil
}

// NetworkPlan splits --cidr, or takes --pod-cidr and --service-cidr as given.
func (c Config) NetworkPlan() (network.Plan, error) {
	switch {
	case c.CIDR != "" && (c.PodCIDR != "" || c.ServiceCIDR != ""):
		return network.Plan{}, errors.New("--cidr cannot be combined with --pod-cidr or --service-cidr: give either --cidr, or both --pod-cidr and --service-cidr")
	case c.CIDR != "":
		p, err := network.Split(c.CIDR)
		if err != nil {
			return network.Plan{}, fmt.Errorf("--cidr: %w", err)
		}
		return p, nil
	case c.PodCIDR == "" && c.ServiceCIDR == "":
		return network.Plan{}, fmt.Errorf("no network range: pass --cidr, e.g. --cidr %s", network.DefaultCIDR)
	default:
		return network.Explicit(c.PodCIDR, c.ServiceCIDR)
	}
}
