package installer

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/datastax/mission-control/charts"
	"github.com/datastax/mission-control/internal/datadir"
	"github.com/datastax/mission-control/internal/filelist"
	"github.com/datastax/mission-control/internal/host"
	"github.com/datastax/mission-control/internal/pki"
	"github.com/datastax/mission-control/internal/progress"
	"github.com/datastax/mission-control/runtime/k0s"
	"github.com/datastax/mission-control/runtime/payload"
)

// Cluster is the running runtime as install sees it: it waits for it to serve and hands out its
// admin kubeconfig. The real one asks the API; a dry run's only says what it would wait for.
type Cluster interface {
	// WaitAPI returns once the API answers /readyz.
	WaitAPI(ctx context.Context, sc *StepContext) (detail string, err error)
	// WaitNode returns once the node is Ready.
	WaitNode(ctx context.Context, sc *StepContext) (detail string, err error)
	// WaitSystem returns once the cluster services workloads rely on (kube-proxy, CoreDNS) are ready.
	WaitSystem(ctx context.Context, sc *StepContext) (detail string, err error)
	// AdminKubeconfig returns the admin kubeconfig users get, once the API is up.
	AdminKubeconfig(sc *StepContext) ([]byte, error)
	// ApplyCRDs applies the chart's CRDs and waits for them to be Established.
	ApplyCRDs(ctx context.Context, sc *StepContext) (detail string, err error)
	// InstallRelease installs or upgrades the platform's release with the values.
	InstallRelease(ctx context.Context, sc *StepContext, v charts.Values) (detail string, err error)
	// ReleaseDeployed reports whether the release is deployed with exactly these values.
	ReleaseDeployed(sc *StepContext, v charts.Values) (bool, error)
	// WaitOperators returns once the mode's operators are Available.
	WaitOperators(ctx context.Context, sc *StepContext) (detail string, err error)
	// LeaveCluster drains this joined node and deletes its Node.
	LeaveCluster(ctx context.Context, sc *StepContext) (detail string, err error)
	// ClusterCA returns the runtime's CA (certificate and key, PEM), once the runtime has made it.
	ClusterCA(sc *StepContext) (cert, key []byte, err error)
}

// stageRuntimeSteps and startRuntimeSteps bring up the embedded Kubernetes (air-gap images are
// staged between them). Their order is reset's order reversed: the host state is recorded before
// anything changes it and restored after the runtime is gone.
func stageRuntimeSteps() []Step {
	return []Step{recordHostState(), stageRuntime()}
}

// startRuntimeSteps configure and start the staged runtime and wait for it to serve.
func startRuntimeSteps() []Step {
	return []Step{
		writeRuntimeConfig(), writeContainerdConfig(), writeCNIConfig(), writeNetworkManifest(), writeJoinManifest(),
		startRuntime(), waitForAPI(), writeKubeconfig(), waitForNode(), waitForSystem(),
	}
}

func recordHostState() Step {
	return Step{
		Name:  "record-host-state",
		Title: "Record the host state reset restores",
		Run: func(ctx context.Context, sc *StepContext) error {
			if _, ok, err := k0s.LoadHostState(sc.Host, sc.Paths); ok || err != nil {
				return err // keep the first record: a resumed install may already have changed the host
			}
			state, err := k0s.RecordHostState(ctx, sc.Host, sc.Paths)
			if err != nil {
				return err
			}
			data, err := state.Marshal()
			if err != nil {
				return err
			}
			return sc.Host.WriteFile(ctx, sc.Paths.HostStateFile(), data, 0o600)
		},
		Done: func(_ context.Context, sc *StepContext) (bool, error) {
			_, ok, err := k0s.LoadHostState(sc.Host, sc.Paths)
			return ok, err
		},
		// Reset runs this after the runtime is stopped and k0s has reset itself.
		Undo: func(ctx context.Context, sc *StepContext) error {
			state, recorded, err := k0s.LoadHostState(sc.Host, sc.Paths)
			if err != nil {
				sc.Log.Warn("recorded host state unreadable; cleaning up without it", "error", err)
			}
			return k0s.Cleanup(ctx, sc.Host, sc.Paths, state, recorded)
		},
	}
}

// stagedFile is where a payload file goes on the host.
func stagedFile(l datadir.Layout, f filelist.File) (string, error) {
	dir, name := path.Split(f.Path)
	switch dir {
	case "bin/":
		return filepath.Join(l.K0sBinDir(), name), nil
	case "cni/":
		return filepath.Join(l.CNIBinDir(), name), nil
	case "images/":
		return filepath.Join(l.ImagesDir(), name), nil
	}
	return "", fmt.Errorf("payload file %s has no place on the host", f.Path)
}

// runtimeDirs are the directories stage-runtime makes.
func runtimeDirs(l datadir.Layout) []string {
	return []string{l.BinDir(), l.K0sBinDir(), l.CNIBinDir(), l.ImagesDir(), l.LogDir(), l.RunDir()}
}

// runtimeLinks are the symbolic links stage-runtime makes, as link, target pairs: k0s insists on
// finding iptables in its bin dir, and k0s is kubectl when called so.
func runtimeLinks(sc *StepContext) ([][2]string, error) {
	l := sc.Paths
	nft, legacy, err := k0s.FindXtables(sc.Host)
	if err != nil {
		return nil, err
	}
	return [][2]string{
		{filepath.Join(l.K0sBinDir(), "xtables-nft-multi"), nft},
		{filepath.Join(l.K0sBinDir(), "xtables-legacy-multi"), legacy},
		{filepath.Join(l.BinDir(), "kubectl"), l.K0s()},
	}, nil
}

// stageRuntime puts the runtime in place: the payload's binaries and images, a copy of this
// binary (the supervisor, and what install and reset run from later) and the links k0s needs.
func stageRuntime() Step {
	return Step{
		Name:  "stage-runtime",
		Title: "Stage the runtime binaries and images",
		Run: func(ctx context.Context, sc *StepContext) error {
			l := sc.Paths
			p, err := sc.Payload()
			if err != nil {
				return err
			}
			links, err := runtimeLinks(sc)
			if err != nil {
				return err
			}
			for _, d := range runtimeDirs(l) {
				if err := sc.Host.MkdirAll(ctx, d, 0o755); err != nil {
					return err
				}
			}
			if err := extractPayload(ctx, sc, p); err != nil {
				return err
			}
			if err := copySelf(ctx, sc); err != nil {
				return err
			}
			for _, link := range links {
				if err := sc.Host.Symlink(ctx, link[1], link[0]); err != nil {
					return err
				}
			}
			sc.Detail("%d files, %s, into %s", len(p.Manifest.Files), progress.Size(p.Manifest.Size()), l.K0sDataDir())
			return nil
		},
		// Done checks all three parts: a resumed install must not skip staging because the
		// payload is in place while the binary's copy or a link is gone or stale.
		Done: func(_ context.Context, sc *StepContext) (bool, error) {
			for _, staged := range []func(*StepContext) (bool, error){payloadStaged, selfStaged, linksStaged} {
				if ok, err := staged(sc); !ok || err != nil {
					return false, err
				}
			}
			return true, nil
		},
		Undo: func(ctx context.Context, sc *StepContext) error {
			var errs []error
			for _, d := range runtimeDirs(sc.Paths) {
				errs = append(errs, sc.Host.RemoveAll(ctx, d))
			}
			return errors.Join(errs...)
		},
	}
}

// extractPayload writes every payload file to its place, checked against the manifest.
func extractPayload(ctx context.Context, sc *StepContext, p *payload.Payload) error {
	err := p.Extract(func(f filelist.File, data []byte) error {
		dest, err := stagedFile(sc.Paths, f)
		if err != nil {
			return err
		}
		sc.Update("%s (%s)", f.Path, progress.Size(f.Size))
		return sc.Host.WriteFile(ctx, dest, data, fs.FileMode(f.Mode))
	})
	if err != nil {
		return fmt.Errorf("extract the runtime payload: %w", err)
	}
	return nil
}

// copySelf copies this binary into the data dir.
func copySelf(ctx context.Context, sc *StepContext) error {
	self, err := sc.Host.ReadFile(sc.Self)
	if err != nil {
		return fmt.Errorf("copy mission-control into the data dir: %w", err)
	}
	return sc.Host.WriteFile(ctx, sc.Paths.Self(), self, 0o755)
}

func payloadStaged(sc *StepContext) (bool, error) {
	p, err := sc.Payload()
	if err != nil {
		return false, err
	}
	for _, f := range p.Manifest.Files {
		dest, err := stagedFile(sc.Paths, f)
		if err != nil {
			return false, err
		}
		if ok, err := sameContent(sc, dest, f.SHA256); !ok || err != nil {
			return false, err
		}
	}
	return true, nil
}

// selfStaged: the data dir's copy is this binary, byte for byte.
func selfStaged(sc *StepContext) (bool, error) {
	sum, err := digest(sc, sc.Self)
	if err != nil {
		return false, fmt.Errorf("read this binary: %w", err)
	}
	return sameContent(sc, sc.Paths.Self(), sum)
}

func linksStaged(sc *StepContext) (bool, error) {
	links, err := runtimeLinks(sc)
	if err != nil {
		return false, err
	}
	for _, link := range links {
		if target, err := sc.Host.Readlink(link[0]); err != nil || target != link[1] {
			return false, nil
		}
	}
	return true, nil
}

// sameContent reports whether the file at path has the SHA-256 sha.
func sameContent(sc *StepContext, path, sha string) (bool, error) {
	sum, err := digest(sc, path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return sum == sha, err
}

// digest is the SHA-256 of the file at path, streamed: payload and bundle files run to hundreds
// of megabytes.
func digest(sc *StepContext, path string) (string, error) {
	f, err := sc.Host.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	sum := sha256.New()
	if _, err := io.Copy(sum, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(sum.Sum(nil)), nil
}

// writeRuntimeConfig writes k0s' configuration and, when the API trusts an OIDC issuer with a CA
// of its own, that CA beside it.
func writeRuntimeConfig() Step {
	s := writeFile("write-runtime-config", "Write the runtime configuration", func(sc *StepContext) string { return sc.Paths.ConfigFile() },
		func(sc *StepContext) ([]byte, error) {
			return k0s.Config{PodCIDR: sc.Plan.PodCIDR, ServiceCIDR: sc.Plan.ServiceCIDR, NodeAddress: sc.Node.Address,
				OIDC: sc.OIDC, OIDCCAFile: sc.Paths.OIDCCAFile()}.Render()
		})
	oidcCA := func(sc *StepContext) []byte {
		if sc.OIDC == nil {
			return nil
		}
		return []byte(sc.OIDC.CA)
	}
	run, done := s.Run, s.Done
	s.Run = func(ctx context.Context, sc *StepContext) error {
		if ca := oidcCA(sc); len(ca) > 0 {
			if err := sc.Host.WriteFile(ctx, sc.Paths.OIDCCAFile(), ca, 0o644); err != nil {
				return err
			}
		}
		return run(ctx, sc)
	}
	s.Done = func(ctx context.Context, sc *StepContext) (bool, error) {
		if ca := oidcCA(sc); len(ca) > 0 {
			if same, err := sameBytes(sc, sc.Paths.OIDCCAFile(), ca); !same || err != nil {
				return false, err
			}
		}
		return done(ctx, sc)
	}
	undo := s.Undo
	s.Undo = func(ctx context.Context, sc *StepContext) error {
		if err := sc.Host.RemoveAll(ctx, sc.Paths.OIDCCAFile()); err != nil {
			return err
		}
		return undo(ctx, sc)
	}
	return s
}

func writeContainerdConfig() Step {
	s := writeFile("write-containerd-config", "Write the container runtime configuration", func(*StepContext) string { return k0s.ContainerdDropInFile },
		func(sc *StepContext) ([]byte, error) {
			capable, err := k0s.HasCapSysResource(sc.Host)
			if err != nil {
				return nil, err
			}
			return k0s.ContainerdDropIn(sc.Paths, !capable), nil
		})
	return inDir(s, func(*StepContext) string { return filepath.Dir(k0s.ContainerdDropInFile) })
}

func writeCNIConfig() Step {
	s := writeFile("write-cni-config", "Write the pod network configuration", func(sc *StepContext) string { return sc.Paths.CNIConfigFile() },
		func(sc *StepContext) ([]byte, error) { return k0s.CNIConfig(sc.Paths) })
	s.Done = func(_ context.Context, sc *StepContext) (bool, error) {
		want, err := k0s.CNIConfig(sc.Paths)
		if err != nil {
			return false, err
		}
		have, err := sc.Host.ReadFile(sc.Paths.CNIConfigFile())
		if errors.Is(err, fs.ErrNotExist) {
			return false, nil
		}
		return err == nil && k0s.SameCNIConfig(have, want), err
	}
	return inDir(s, func(sc *StepContext) string { return sc.Paths.CNIConfDir() })
}

// writeNetworkManifest puts the pod network's manifest in k0s' manifests dir: k0s applies it once
// its API answers, so kube-router runs before any other pod needs an address.
func writeNetworkManifest() Step {
	s := writeFile("write-network-manifest", "Write the pod network's manifest", func(sc *StepContext) string { return sc.Paths.NetworkManifest() },
		func(sc *StepContext) ([]byte, error) {
			p, err := sc.Payload()
			if err != nil {
				return nil, err
			}
			return k0s.NetworkManifest(sc.Paths, k0s.Network{KubeRouterImage: p.Manifest.Images["kube-router"], PeeringImage: p.Manifest.Images["pod-network-peering"],
				PodCIDR: sc.Plan.PodCIDR, ServiceCIDR: sc.Plan.ServiceCIDR})
		})
	return inDir(s, func(sc *StepContext) string { return filepath.Dir(sc.Paths.NetworkManifest()) })
}

// writeJoinManifest puts what joining nodes check (the cluster's license, mode, ranges and
// version, readable with a join token) in k0s' manifests dir.
func writeJoinManifest() Step {
	s := writeFile("write-join-manifest", "Write what joining nodes check", func(sc *StepContext) string { return sc.Paths.JoinManifest() },
		func(sc *StepContext) ([]byte, error) {
			facts := k0s.JoinFacts{LicenseID: sc.License.Spec.LicenseID, Mode: sc.Config.Mode,
				PodCIDR: sc.Plan.PodCIDR.String(), ServiceCIDR: sc.Plan.ServiceCIDR.String(), Version: sc.Version, OIDC: sc.OIDC}
			if sc.Bundle != nil {
				facts.Bundle = sc.Bundle.ID()
			}
			return k0s.JoinManifest(facts)
		})
	return inDir(s, func(sc *StepContext) string { return filepath.Dir(sc.Paths.JoinManifest()) })
}

// inDir makes a file-writing step first make its file's directory (mode 0755: read by k0s,
// containerd and kube-router).
func inDir(s Step, dir func(*StepContext) string) Step {
	run := s.Run
	s.Run = func(ctx context.Context, sc *StepContext) error {
		if err := sc.Host.MkdirAll(ctx, dir(sc), 0o755); err != nil {
			return err
		}
		return run(ctx, sc)
	}
	return s
}

func (sc *StepContext) service() k0s.Service {
	return k0s.Service{Layout: sc.Paths, Host: sc.Host, Role: sc.Config.role(), Joined: sc.Config.joins()}
}

func startRuntime() Step {
	return Step{
		Name:  "start-runtime",
		Title: "Start the runtime service",
		Run: func(ctx context.Context, sc *StepContext) error {
			if err := sc.service().Start(ctx); err != nil {
				return err
			}
			how := "supervised by " + sc.Paths.Self() + ", log " + sc.Paths.LogFile()
			if host.HasSystemd(sc.Host) {
				how = "systemd unit " + k0s.UnitName
			}
			sc.Detail("k0s %s", how)
			return nil
		},
		Done: func(ctx context.Context, sc *StepContext) (bool, error) {
			running, _, err := sc.service().Running(ctx)
			return running, err
		},
		// Stop, let k0s reset itself (it removes its containers, mounts and data), then wait until
		// no process of the runtime is left (containers' shims outlive k0s), ending what does not
		// stop: only then do the later undos unmount and remove.
		Undo: func(ctx context.Context, sc *StepContext) error {
			l := sc.Paths
			if err := sc.service().Stop(ctx); err != nil {
				return err
			}
			var resetErr error
			k0sStaged, _ := sc.Host.Exists(l.K0s())
			configured, _ := sc.Host.Exists(l.ConfigFile())
			if k0sStaged && configured {
				resetErr = k0s.Reset(ctx, sc.Host, l, sc.resetTimeout())
			}
			// What k0s reset did not get to, the runtime's processes below and the later undos'
			// unmounting and removal take care of: reset goes on, saying why.
			if errors.Is(resetErr, k0s.ErrResetTimedOut) {
				sc.Log.Warn(resetErr.Error() + "; ending the runtime's processes and removing its mounts and files without it")
				sc.Detail("%v; the runtime's processes, mounts and files were removed without it", resetErr)
				resetErr = nil
			}
			return errors.Join(resetErr, k0s.EndProcesses(ctx, sc.Host, l, func(s string) { sc.Update("%s", s) }))
		},
	}
}

// waitStep is a check that waits on the cluster.
func waitStep(name, title string, wait func(Cluster, context.Context, *StepContext) (string, error)) Step {
	return Step{
		Name:  name,
		Title: title,
		Check: true,
		Run: func(ctx context.Context, sc *StepContext) error {
			detail, err := wait(sc.Cluster, ctx, sc)
			sc.Detail("%s", detail)
			return err
		},
	}
}

func waitForAPI() Step {
	return waitStep("wait-for-api", "Wait for the Kubernetes API", Cluster.WaitAPI)
}

// waitForNode waits for this node to be Ready in the cluster. Reset undoes the node's part in the
// cluster first, while the runtime still runs: a worker, or a controller with others beside it,
// is drained and its Node deleted (and a controller's etcd member removed) when the cluster
// answers; a cluster's last controller takes the cluster with it.
func waitForNode() Step {
	s := waitStep("wait-for-node", "Wait for the node to be Ready", Cluster.WaitNode)
	s.Undo = func(ctx context.Context, sc *StepContext) error {
		detail, err := sc.Cluster.LeaveCluster(ctx, sc)
		if err != nil {
			// The host is reset all the same: the cluster may be gone for good.
			sc.Log.Warn("the cluster could not be told this node leaves; remove it there with: mission-control node remove", "error", err)
			sc.Detail("NOT removed from the cluster (%v): on another controller run mission-control node remove", err)
			return nil
		}
		sc.Detail("%s", detail)
		return nil
	}
	return s
}

func waitForSystem() Step {
	return waitStep("wait-for-system", "Wait for the pod network, kube-proxy and CoreDNS", Cluster.WaitSystem)
}

// writeKubeconfig publishes the admin kubeconfig, with the API's external address (the node's)
// rather than k0s' internal one, readable by root only.
func writeKubeconfig() Step {
	return Step{
		Name:  "write-kubeconfig",
		Title: "Write the admin kubeconfig",
		Run: func(ctx context.Context, sc *StepContext) error {
			kubeconfig, err := sc.Cluster.AdminKubeconfig(sc)
			if err != nil {
				return err
			}
			l := sc.Paths
			sc.Detail("%s (use it with mission-control shell)", l.Kubeconfig())
			return sc.Host.WriteFile(ctx, l.Kubeconfig(), kubeconfig, 0o600)
		},
		Done: func(_ context.Context, sc *StepContext) (bool, error) {
			data, err := sc.Host.ReadFile(sc.Paths.Kubeconfig())
			if errors.Is(err, fs.ErrNotExist) {
				return false, nil
			}
			return len(data) > 0, err
		},
		Undo: func(ctx context.Context, sc *StepContext) error {
			return sc.Host.RemoveAll(ctx, sc.Paths.Kubeconfig())
		},
	}
}

// sameBytes reports whether the file at path holds exactly want.
func sameBytes(sc *StepContext, path string, want []byte) (bool, error) {
	have, err := sc.Host.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil && bytes.Equal(have, want), err
}

// LiveCluster waits on the real runtime through its API.
type LiveCluster struct {
	// Timeout bounds each wait.
	Timeout time.Duration
}

func (c LiveCluster) waiter(sc *StepContext) k0s.Waiter {
	w := k0s.Waiter{Layout: sc.Paths, Reader: sc.Host, Timeout: c.Timeout, Poll: time.Second,
		Update: func(s string) { sc.Update("%s", s) }}
	if sc.Config.role() == k0s.RoleWorker {
		w.Kubeconfig = sc.Paths.KubeletKubeconfig()
	}
	return w
}

// LeaveCluster implements Cluster.
func (c LiveCluster) LeaveCluster(ctx context.Context, sc *StepContext) (string, error) {
	name, err := k0s.NodeName(sc.Host)
	if err != nil {
		return "", err
	}
	update := func(s string) { sc.Update("%s", s) }
	if sc.Config.role() == k0s.RoleWorker {
		// A worker's kubelet credentials reach the cluster even with its own runtime stopped.
		client, err := c.waiter(sc).Client()
		if err != nil {
			return "", err
		}
		detail, err := RemoveNode(ctx, client, name, false, c.Timeout, update)
		if errors.Is(err, errNoSuchNode) {
			return fmt.Sprintf("node %s is not in the cluster", name), nil
		}
		return detail, err
	}
	if running, _, err := sc.service().Running(ctx); err != nil || !running {
		return "the runtime does not run: no other controller was told (remove this node there with mission-control node remove)", err
	}
	members, err := k0s.EtcdMembers(ctx, sc.Host, sc.Paths)
	if err != nil {
		return "", err
	}
	if len(members) <= 1 {
		return "the cluster's last controller: the cluster ends with it", nil
	}
	state, err := LoadState(sc.Host, sc.Paths)
	if err != nil {
		return "", err
	}
	addr, err := netip.ParseAddr(state.NodeAddress)
	if err != nil {
		return "", fmt.Errorf("install state's node address %q: %w", state.NodeAddress, err)
	}
	client, err := c.waiter(sc).Client()
	if err != nil {
		return "", err
	}
	detail, err := removeController(ctx, sc.Host, sc.Paths, client, name, addr, true, c.Timeout, update)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s; its etcd member left (%d controllers remain)", detail, len(members)-1), nil
}

// WaitAPI implements Cluster.
func (c LiveCluster) WaitAPI(ctx context.Context, sc *StepContext) (string, error) {
	start := time.Now()
	if err := c.waiter(sc).WaitAPI(ctx); err != nil {
		return "", err
	}
	return fmt.Sprintf("/readyz ok after %s", time.Since(start).Round(100*time.Millisecond)), nil
}

// WaitNode implements Cluster.
func (c LiveCluster) WaitNode(ctx context.Context, sc *StepContext) (string, error) {
	start := time.Now()
	n, err := c.waiter(sc).WaitNode(ctx)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("node %s Ready after %s (kubelet %s, %s)", n.Name, time.Since(start).Round(100*time.Millisecond), n.KubeletVersion, n.Runtime), nil
}

// WaitSystem implements Cluster.
func (c LiveCluster) WaitSystem(ctx context.Context, sc *StepContext) (string, error) {
	start := time.Now()
	if err := c.waiter(sc).WaitSystem(ctx); err != nil {
		return "", err
	}
	return fmt.Sprintf("ready after %s", time.Since(start).Round(100*time.Millisecond)), nil
}

// AdminKubeconfig implements Cluster.
func (LiveCluster) AdminKubeconfig(sc *StepContext) ([]byte, error) {
	return k0s.AdminKubeconfig(sc.Host, sc.Paths, sc.Node.Address, sc.Config.ContextName)
}

// ClusterCA implements Cluster: the files k0s made.
func (LiveCluster) ClusterCA(sc *StepContext) ([]byte, []byte, error) {
	certFile, keyFile := sc.Paths.ClusterCA()
	cert, err := sc.Host.ReadFile(certFile)
	if err != nil {
		return nil, nil, fmt.Errorf("read the cluster's CA: %w", err)
	}
	key, err := sc.Host.ReadFile(keyFile)
	if err != nil {
		return nil, nil, fmt.Errorf("read the cluster's CA key: %w", err)
	}
	return cert, key, nil
}

func (c LiveCluster) charts(sc *StepContext) charts.Client {
	return charts.Client{Kubeconfig: sc.Paths.AdminKubeconfig(), Timeout: c.Timeout, Log: func(format string, args ...any) {
		sc.Log.Debug(fmt.Sprintf(format, args...), "component", "helm")
	}}
}

// ApplyCRDs implements Cluster.
func (c LiveCluster) ApplyCRDs(ctx context.Context, sc *StepContext) (string, error) {
	names, err := c.charts(sc).ApplyCRDs(ctx, c.Timeout)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%d CRDs Established", len(names)), nil
}

// InstallRelease implements Cluster.
func (c LiveCluster) InstallRelease(ctx context.Context, sc *StepContext, v charts.Values) (string, error) {
	ch, err := charts.Load(sc.Version)
	if err != nil {
		return "", err
	}
	rel, err := c.charts(sc).Install(ctx, sc.Config.ReleaseName, ch, v)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("release %s revision %d in namespace %s", rel.Name, rel.Version, charts.Namespace), nil
}

// ReleaseDeployed implements Cluster.
func (c LiveCluster) ReleaseDeployed(sc *StepContext, v charts.Values) (bool, error) {
	ch, err := charts.Load(sc.Version)
	if err != nil {
		return false, err
	}
	return c.charts(sc).Deployed(sc.Config.ReleaseName, ch, v)
}

// WaitOperators implements Cluster.
func (c LiveCluster) WaitOperators(ctx context.Context, sc *StepContext) (string, error) {
	client, err := c.waiter(sc).Client()
	if err != nil {
		return "", err
	}
	start := time.Now()
	comps, err := charts.WaitAvailable(ctx, client, sc.Config.ReleaseName, sc.Config.deployments(), c.Timeout,
		func(s string) { sc.Update("%s", s) })
	if err != nil {
		return "", err
	}
	names := make([]string, len(comps))
	for i, comp := range comps {
		names[i] = comp.Name
	}
	return fmt.Sprintf("%s Available after %s", strings.Join(names, ", "), time.Since(start).Round(100*time.Millisecond)), nil
}

// PlannedCluster is a dry run's Cluster: nothing runs, so it only says what it would wait for.
type PlannedCluster struct {
	Timeout time.Duration
}

// WaitAPI implements Cluster.
func (c PlannedCluster) WaitAPI(context.Context, *StepContext) (string, error) {
	return fmt.Sprintf("would wait up to %s for the API's /readyz", c.Timeout), nil
}

// WaitNode implements Cluster.
func (c PlannedCluster) WaitNode(context.Context, *StepContext) (string, error) {
	return fmt.Sprintf("would wait up to %s for the node to be Ready", c.Timeout), nil
}

// WaitSystem implements Cluster.
func (c PlannedCluster) WaitSystem(context.Context, *StepContext) (string, error) {
	return fmt.Sprintf("would wait up to %s for the pod network, kube-proxy and CoreDNS to be ready", c.Timeout), nil
}

// AdminKubeconfig implements Cluster: there is none before the runtime runs.
func (PlannedCluster) AdminKubeconfig(*StepContext) ([]byte, error) { return nil, nil }

// ClusterCA implements Cluster: a throwaway CA stands in for the one the runtime will make, so
// that the plan shows the certificates signed with it.
func (PlannedCluster) ClusterCA(sc *StepContext) ([]byte, []byte, error) {
	ca, err := pki.NewCA("kubernetes-ca (made by the runtime when it starts)", time.Hour, sc.Now())
	return ca.CertPEM, ca.KeyPEM, err
}

// ApplyCRDs implements Cluster.
func (PlannedCluster) ApplyCRDs(context.Context, *StepContext) (string, error) {
	crds, err := charts.CRDs()
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("would apply %d CRDs: %s", len(crds), strings.Join(charts.Summary(crds), ", ")), nil
}

// InstallRelease implements Cluster: it renders the chart as the install would.
func (PlannedCluster) InstallRelease(_ context.Context, sc *StepContext, v charts.Values) (string, error) {
	ch, err := charts.Load(sc.Version)
	if err != nil {
		return "", err
	}
	objs, err := charts.Render(ch, sc.Config.ReleaseName, k0s.KubernetesVersion, v)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("would install release %s (chart %s %s) in namespace %s: %s", sc.Config.ReleaseName, ch.Metadata.Name,
		ch.Metadata.Version, charts.Namespace, strings.Join(charts.Summary(objs), ", ")), nil
}

// LeaveCluster implements Cluster.
func (PlannedCluster) LeaveCluster(_ context.Context, sc *StepContext) (string, error) {
	name, err := k0s.NodeName(sc.Host)
	if sc.Config.role() == k0s.RoleController {
		return fmt.Sprintf("would drain node %s, delete it from the cluster and remove its etcd member, if other controllers remain", name), err
	}
	return fmt.Sprintf("would drain node %s and delete it from the cluster", name), err
}

// ReleaseDeployed implements Cluster: nothing is deployed in a dry run.
func (PlannedCluster) ReleaseDeployed(*StepContext, charts.Values) (bool, error) { return false, nil }

// WaitOperators implements Cluster.
func (c PlannedCluster) WaitOperators(_ context.Context, sc *StepContext) (string, error) {
	return fmt.Sprintf("would wait up to %s for %s to be Available", c.Timeout, strings.Join(sc.Config.deployments(), ", ")), nil
}
