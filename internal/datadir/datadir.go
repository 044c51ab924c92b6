// Package datadir derives every path mission-control keeps under its data dir (the install's
// records, the runtime's files, certificates), so that removing the data dir removes them and no
// package rebuilds a path by hand.
package datadir

import "path/filepath"

// Default is the data dir when --data-dir is not given.
const Default = "/var/lib/mission-control"

// Files in the data dir that mark it as mission-control's: reset removes only a data dir that
// holds one of them.
const (
	JournalFile = "journal.json"
	StateFile   = "install.yaml"
)

// Layout places mission-control's files under its data dir.
type Layout struct {
	DataDir string
}

// Journal is the install journal: each step's progress.
func (l Layout) Journal() string { return filepath.Join(l.DataDir, JournalFile) }

// State is the record of what was installed, read by status, reset and re-runs.
func (l Layout) State() string { return filepath.Join(l.DataDir, StateFile) }

// License is the installed license, without its signature.
func (l Layout) License() string { return filepath.Join(l.DataDir, "license.yaml") }

// PreflightResults is the last install's host preflight report.
func (l Layout) PreflightResults() string { return filepath.Join(l.DataDir, "preflight.json") }

// WebhookFiles are the webhook CA and serving certificate.
type WebhookFiles struct{ CACert, CAKey, Cert, Key string }

// Webhook places the webhooks' CA and serving certificate.
func (l Layout) Webhook() WebhookFiles {
	dir := filepath.Join(l.DataDir, "pki", "webhook")
	return WebhookFiles{CACert: filepath.Join(dir, "ca.crt"), CAKey: filepath.Join(dir, "ca.key"), Cert: filepath.Join(dir, "tls.crt"), Key: filepath.Join(dir, "tls.key")}
}

// ClusterCA is the runtime's own CA, which k0s makes when it first starts (certificate, key).
func (l Layout) ClusterCA() (cert, key string) {
	dir := filepath.Join(l.K0sDataDir(), "pki")
	return filepath.Join(dir, "ca.crt"), filepath.Join(dir, "ca.key")
}

// APIServing places the Mission Control API's serving certificate and key, signed by ClusterCA.
func (l Layout) APIServing() (cert, key string) {
	dir := filepath.Join(l.DataDir, "pki", "api")
	return filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
}

// EtcDir holds the configuration files mission-control writes for the runtime.
func (l Layout) EtcDir() string { return filepath.Join(l.DataDir, "etc") }

// OIDCCAFile is the CA the API server verifies the OIDC issuer with (install --oidc-ca-file).
func (l Layout) OIDCCAFile() string { return filepath.Join(l.EtcDir(), "oidc-ca.crt") }

// ConfigFile is k0s' cluster configuration.
func (l Layout) ConfigFile() string { return filepath.Join(l.EtcDir(), "k0s.yaml") }

// K0sDataDir is k0s' own data dir (--data-dir): PKI, etcd, containerd and kubelet state.
func (l Layout) K0sDataDir() string { return filepath.Join(l.DataDir, "k0s") }

// K0sBinDir is where k0s looks for the binaries it runs.
func (l Layout) K0sBinDir() string { return filepath.Join(l.K0sDataDir(), "bin") }

// K0s is the k0s binary.
func (l Layout) K0s() string { return filepath.Join(l.K0sBinDir(), "k0s") }

// ImagesDir is k0s' image import directory: tarballs placed there are imported into containerd
// when the worker starts and whenever one is added.
func (l Layout) ImagesDir() string { return filepath.Join(l.K0sDataDir(), "images") }

// BinDir holds mission-control's own executables: a copy of itself (which supervises k0s where
// there is no systemd) and kubectl, for `mission-control shell`.
func (l Layout) BinDir() string { return filepath.Join(l.DataDir, "bin") }

// Self is the copy of the mission-control binary the runtime service runs.
func (l Layout) Self() string { return filepath.Join(l.BinDir(), "mission-control") }

// CNIBinDir holds the CNI plugins; CNIConfDir the pod network configuration; CNIStateDir the
// addresses handed out, so that reset frees them.
func (l Layout) CNIBinDir() string   { return filepath.Join(l.DataDir, "cni", "bin") }
func (l Layout) CNIConfDir() string  { return filepath.Join(l.DataDir, "cni", "net.d") }
func (l Layout) CNIStateDir() string { return filepath.Join(l.DataDir, "cni", "ipam") }

// CNIConfigFile is the pod network configuration.
func (l Layout) CNIConfigFile() string {
	return filepath.Join(l.CNIConfDir(), "10-mission-control.conflist")
}

// NetworkManifest is the pod network's manifest, in the stack of k0s' manifests dir that k0s
// applies (and keeps applied) by itself.
func (l Layout) NetworkManifest() string {
	return filepath.Join(l.K0sDataDir(), "manifests", "mission-control-network", "kube-router.yaml")
}

// JoinManifest is what lets a new node check its join against the cluster before it joins (its
// RBAC for join tokens and the cluster's join facts), in k0s' manifests dir like the network's.
func (l Layout) JoinManifest() string {
	return filepath.Join(l.K0sDataDir(), "manifests", "mission-control-join", "join.yaml")
}

// JoinTokenFile is the token a joined node's k0s worker joins with (root only).
func (l Layout) JoinTokenFile() string { return filepath.Join(l.EtcDir(), "join-token") }

// KubeletKubeconfig is the kubeconfig k0s' worker gives the kubelet once it has joined: the
// node's own credentials, which may read and delete its Node.
func (l Layout) KubeletKubeconfig() string { return filepath.Join(l.K0sDataDir(), "kubelet.conf") }

// LogDir holds the runtime's log.
func (l Layout) LogDir() string { return filepath.Join(l.DataDir, "log") }

// LogFile is the runtime service's log (the supervisor's and k0s' output).
func (l Layout) LogFile() string { return filepath.Join(l.LogDir(), "k0s.log") }

// RunDir holds the supervisor's PID file.
func (l Layout) RunDir() string { return filepath.Join(l.DataDir, "run") }

// PIDFile is the supervisor's PID.
func (l Layout) PIDFile() string { return filepath.Join(l.RunDir(), "supervisor.pid") }

// StatusSocket is where k0s answers k0s status. It is k0s' default for root, whose run dir is
// /run/k0s whatever --data-dir says (reset removes it), and it is given to both sides explicitly.
func (Layout) StatusSocket() string { return "/run/k0s/status.sock" }

// AdminKubeconfig is the kubeconfig k0s writes for the cluster admin.
func (l Layout) AdminKubeconfig() string { return filepath.Join(l.K0sDataDir(), "pki", "admin.conf") }

// Kubeconfig is the admin kubeconfig mission-control hands to users and `shell`: k0s' own, with
// the node's address.
func (l Layout) Kubeconfig() string { return filepath.Join(l.DataDir, "kubeconfig") }

// HostStateFile records the host as it was before the runtime changed it, for reset.
func (l Layout) HostStateFile() string { return filepath.Join(l.DataDir, "host-before.json") }

// ModeBeforeFile records the data dir's mode when install found it in place with another (a
// mounted disk, say), so that reset, which leaves such a dir, gives it back.
func (l Layout) ModeBeforeFile() string { return filepath.Join(l.DataDir, "mode-before-install") }

// KeptNetnsDir is where reset keeps other programs' network namespaces while k0s resets: its path
// must not hold "run/netns", or k0s would take them there too.
func (l Layout) KeptNetnsDir() string { return filepath.Join(l.RunDir(), "kept-namespaces") }

// StorageDir is where the volume provisioner makes each node's volumes: one directory per
// volume, named NAMESPACE_CLAIM_PV, beside its record (internal/localvolume).
func (l Layout) StorageDir() string { return filepath.Join(l.DataDir, "storage") }
