package installer

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/datastax/mission-control/installer/preflight"
	"github.com/datastax/mission-control/installer/preflight/preflighttest"
	"github.com/datastax/mission-control/internal/datadir"
	"github.com/datastax/mission-control/internal/host"
	"github.com/datastax/mission-control/internal/host/hosttest"
	"github.com/datastax/mission-control/internal/license"
	"github.com/datastax/mission-control/internal/license/licensetest"
	"github.com/datastax/mission-control/internal/network"
	"github.com/datastax/mission-control/internal/pki"
	"github.com/datastax/mission-control/internal/progress"
	"github.com/datastax/mission-control/runtime/payload"
	"github.com/datastax/mission-control/runtime/payload/payloadtest"
)

var testNow = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

// writeLicense writes a valid development-signed license, changed by mutate.
func writeLicense(t *testing.T, mutate func(*license.Spec)) string {
	t.Helper()
	spec := licensetest.Spec("L-TEST-0001", testNow)
	if mutate != nil {
		mutate(&spec)
	}
	return licensetest.Write(t, spec)
}

type fakeNetwork struct {
	routes []network.Route
	ifaces []network.Interface
}

func (f fakeNetwork) Routes() ([]network.Route, error)         { return f.routes, nil }
func (f fakeNetwork) Interfaces() ([]network.Interface, error) { return f.ifaces, nil }

var testNetwork = fakeNetwork{
	routes: []network.Route{
		{Dst: netip.MustParsePrefix("0.0.0.0/0"), Interface: "eth0"},
		{Dst: netip.MustParsePrefix("192.0.2.0/24"), Interface: "eth0"},
		{Dst: netip.MustParsePrefix("10.0.0.0/16"), Interface: "eth1"},
	},
	ifaces: []network.Interface{
		{Name: "lo", Up: true, Loopback: true, Addrs: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/8")}},
		{Name: "eth0", Up: true, Addrs: []netip.Prefix{netip.MustParsePrefix("192.0.2.2/24")}},
		{Name: "eth1", Up: true, Addrs: []netip.Prefix{netip.MustParsePrefix("10.0.0.5/16")}},
	},
}

// fixture is an install against a Recorder over a fresh machine, with a data dir that does not
// exist yet. The journal goes to the same recorder, so a second run sees the first one's journal.
type fixture struct {
	cfg     Config
	rec     *host.Recorder
	facts   preflight.Facts
	payload *payload.Payload
	self    string
	// joinCluster is the cluster a join reads.
	joinCluster JoinCluster
}

func newFixture(t *testing.T) *fixture {
	cfg := DefaultConfig()
	cfg.LicenseFile = writeLicense(t, nil)
	cfg.DataDir = filepath.Join(t.TempDir(), "mc")
	self := filepath.Join(t.TempDir(), "mission-control")
	if err := os.WriteFile(self, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return &fixture{cfg: cfg, rec: host.NewRecorder(hosttest.Fresh{}), facts: preflighttest.Roomy().Facts("control-plane"), payload: payloadtest.New(t), self: self}
}

func (f *fixture) env(h host.Host) Env {
	return Env{
		Host: h, Network: testNetwork,
		Facts:    func(context.Context, preflight.Input) (preflight.Facts, error) { return f.facts, nil },
		Now:      func() time.Time { return testNow },
		Version:  "v0.0.0-test",
		Log:      slog.New(slog.NewTextHandler(io.Discard, nil)),
		Progress: progress.New(io.Discard, progress.Quiet),
		Payload:  func() (*payload.Payload, error) { return f.payload, nil },
		Self:     f.self,
		Cluster:  fakeCluster{PlannedCluster{Timeout: time.Minute}},

		JoinCluster: f.joinCluster,
	}
}

func (f *fixture) install(t *testing.T) ([]Result, error) {
	t.Helper()
	i := Install{Config: f.cfg, Env: f.env(f.rec)}
	res, _, err := i.run(context.Background())
	return res, err
}

func outcomes(results []Result) string {
	var s []string
	for _, r := range results {
		s = append(s, r.Step+"="+string(r.Outcome))
	}
	return strings.Join(s, " ")
}

// installWants runs the fixture's install, which must succeed with exactly the outcomes want.
func installWants(t *testing.T, f *fixture, want string) []Result {
	t.Helper()
	results, err := f.install(t)
	if err != nil {
		t.Fatal(err)
	}
	if got := outcomes(results); got != want {
		t.Errorf("outcomes:\n%s\nwant\n%s", got, want)
	}
	return results
}

func opLines(ops []host.Op, dataDir string) []string {
	var lines []string
	for _, op := range ops {
		if strings.HasSuffix(op.Path, "journal.json") {
			continue
		}
		what := op.Path + " " + op.Mode
		if op.Kind == "run" {
			what = op.Command
		}
		lines = append(lines, op.Step+": "+op.Kind+" "+strings.ReplaceAll(what, dataDir, "$DATA"))
	}
	return lines
}

func TestInstallPlan(t *testing.T) {
	f := newFixture(t)
	installWants(t, f, "verify-license=ok plan-network=ok check-install-state=ok host-preflights=ok prepare-data-dir=ok write-install-state=ok write-license=ok write-preflight-results=ok "+
		"record-host-state=ok stage-runtime=ok write-runtime-config=ok write-containerd-config=ok write-cni-config=ok write-network-manifest=ok write-join-manifest=ok start-runtime=ok "+
		"wait-for-api=ok write-kubeconfig=ok wait-for-node=ok wait-for-system=ok "+
		"issue-webhook-certificates=ok issue-api-certificate=ok apply-crds=ok install-release=ok wait-for-operators=ok")
	gotOps := opLines(f.rec.Ops(), f.cfg.DataDir)
	wantOps := []string{
		"prepare-data-dir: mkdir $DATA 0700", // by the journal's first record
		"prepare-data-dir: mkdir $DATA/etc 0700",
		"write-install-state: write $DATA/install.yaml 0600",
		"write-license: write $DATA/license.yaml 0600",
		"write-preflight-results: write $DATA/preflight.json 0600",
		"record-host-state: run nft list ruleset",
		"record-host-state: run iptables-nft-save",
		"record-host-state: run ip6tables-nft-save",
		"record-host-state: run ip -4 route show proto 17",
		"record-host-state: write $DATA/host-before.json 0600",
		"stage-runtime: mkdir $DATA/bin 0755",
		"stage-runtime: mkdir $DATA/k0s/bin 0755",
		"stage-runtime: mkdir $DATA/cni/bin 0755",
		"stage-runtime: mkdir $DATA/k0s/images 0755",
		"stage-runtime: mkdir $DATA/log 0755",
		"stage-runtime: mkdir $DATA/run 0755",
		"stage-runtime: write $DATA/k0s/bin/k0s 0755",
		"stage-runtime: write $DATA/k0s/bin/kubelet 0755",
		"stage-runtime: write $DATA/cni/bin/bridge 0755",
		"stage-runtime: write $DATA/k0s/images/coredns.tar 0644",
		"stage-runtime: write $DATA/k0s/images/pause.tar 0644",
		"stage-runtime: write $DATA/bin/mission-control 0755",
		"stage-runtime: symlink $DATA/k0s/bin/xtables-nft-multi ",
		"stage-runtime: symlink $DATA/k0s/bin/xtables-legacy-multi ",
		"stage-runtime: symlink $DATA/bin/kubectl ",
		"write-runtime-config: write $DATA/etc/k0s.yaml 0600",
		"write-containerd-config: mkdir /etc/k0s/containerd.d 0755",
		"write-containerd-config: write /etc/k0s/containerd.d/mission-control.toml 0600",
		"write-cni-config: mkdir $DATA/cni/net.d 0755",
		"write-cni-config: write $DATA/cni/net.d/10-mission-control.conflist 0600",
		"write-network-manifest: mkdir $DATA/k0s/manifests/mission-control-network 0755",
		"write-network-manifest: write $DATA/k0s/manifests/mission-control-network/kube-router.yaml 0600",
		"write-join-manifest: mkdir $DATA/k0s/manifests/mission-control-join 0755",
		"write-join-manifest: write $DATA/k0s/manifests/mission-control-join/join.yaml 0600",
		"start-runtime: start $DATA/log/k0s.log ",
		"start-runtime: write $DATA/run/supervisor.pid 0600",
		"write-kubeconfig: write $DATA/kubeconfig 0600",
		"issue-webhook-certificates: mkdir $DATA/pki/webhook 0700",
		"issue-webhook-certificates: write $DATA/pki/webhook/ca.key 0600",
		"issue-webhook-certificates: write $DATA/pki/webhook/ca.crt 0644",
		"issue-webhook-certificates: write $DATA/pki/webhook/tls.key 0600",
		"issue-webhook-certificates: write $DATA/pki/webhook/tls.crt 0644",
		"issue-api-certificate: mkdir $DATA/pki/api 0700",
		"issue-api-certificate: write $DATA/pki/api/tls.key 0600",
		"issue-api-certificate: write $DATA/pki/api/tls.crt 0644",
	}
	if !reflect.DeepEqual(gotOps, wantOps) {
		t.Errorf("ops:\n%s\nwant\n%s", strings.Join(gotOps, "\n"), strings.Join(wantOps, "\n"))
	}
	state, err := LoadState(f.rec, f.cfg.Paths())
	if err != nil {
		t.Fatal(err)
	}
	wantState := State{Version: "v0.0.0-test", Mode: "control-plane", Role: "controller", ReleaseName: "mission-control", DataDir: f.cfg.DataDir,
		CIDR: "10.244.0.0/16", PodCIDR: "10.244.0.0/17", ServiceCIDR: "10.244.128.0/17",
		NetworkInterface: "eth0", NodeAddress: "192.0.2.2", LicenseID: "L-TEST-0001", StorageClass: "mission-control-local", Runtime: map[string]string{"kubernetes": "v1.33.4"}}
	if !reflect.DeepEqual(state, wantState) {
		t.Errorf("state = %+v\nwant    %+v", state, wantState)
	}
	k0sYAML, _ := f.rec.ReadFile(f.cfg.Paths().ConfigFile())
	for _, want := range []string{"podCIDR: 10.244.0.0/17", "serviceCIDR: 10.244.128.0/17", "address: 192.0.2.2", "default_pull_policy: Never", "provider: custom"} {
		if !strings.Contains(string(k0sYAML), want) {
			t.Errorf("k0s config lacks %q:\n%s", want, k0sYAML)
		}
	}
	if _, err := os.Stat(f.cfg.DataDir); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("an install on a recorder created the real data dir")
	}
}

// runtimeRunning makes the recorded host show the supervisor running, as a real install leaves it:
// a recorded start runs no process.
func (f *fixture) runtimeRunning(t *testing.T) {
	t.Helper()
	l := f.cfg.Paths()
	for path, data := range map[string]string{
		l.PIDFile():          "4242\n",
		"/proc/4242/stat":    "4242 (mission-control) S 1",
		"/proc/4242/cmdline": l.Self() + "\x00supervise\x00",
	} {
		if err := f.rec.MkdirAll(context.Background(), filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := f.rec.WriteFile(context.Background(), path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSecondInstallRefused: a complete install whose runtime runs is not run again, and nothing
// changes.
func TestSecondInstallRefused(t *testing.T) {
	f := newFixture(t)
	if _, err := f.install(t); err != nil {
		t.Fatal(err)
	}
	f.runtimeRunning(t)
	before := len(f.rec.Ops())
	_, err := f.install(t)
	want := "check-install-state: mission-control (control-plane, pods 10.244.0.0/17, services 10.244.128.0/17) is already installed in " +
		f.cfg.DataDir + ": run mission-control reset --data-dir " + f.cfg.DataDir + " first to reinstall"
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v\nwant    %s", err, want)
	}
	if extra := f.rec.Ops()[before:]; len(extra) > 0 {
		t.Errorf("the refused run changed the host: %v", extra)
	}
}

// TestStoppedRuntimeStartsAgain: the same install command over a complete install whose runtime
// is not running (a reboot without systemd) starts it, and changes nothing else.
func TestStoppedRuntimeStartsAgain(t *testing.T) {
	f := newFixture(t)
	if _, err := f.install(t); err != nil {
		t.Fatal(err)
	}
	before := len(f.rec.Ops())
	results, err := f.install(t)
	if err != nil {
		t.Fatal(err)
	}
	var details string
	for _, r := range results {
		details += r.Step + ": " + r.Detail + "\n"
	}
	if !strings.Contains(details, "check-install-state: the install in "+f.cfg.DataDir+" is complete but its runtime is not running: starting it") {
		t.Errorf("the second run does not say it starts the runtime:\n%s", details)
	}
	for _, op := range f.rec.Ops()[before:] {
		if op.Kind != "start" && op.Path != f.cfg.Paths().PIDFile() && !strings.HasPrefix(op.Path, f.cfg.Paths().Journal()) {
			t.Errorf("starting the runtime again also did %+v", op)
		}
	}
}

// TestStepsConfirmTheirEffects: after an install, every changing step's Done sees its effect in
// place, so a resumed run would skip it. start-runtime is the exception here: a recorded start
// runs no process (the end-to-end tests check it on a real one). The steps whose effect lives in
// the cluster's datastore need no Undo (reset removes it with the runtime) and are checked
// against a real cluster there.
func TestStepsConfirmTheirEffects(t *testing.T) {
	f := newFixture(t)
	i := Install{Config: f.cfg, Env: f.env(f.rec)}
	_, sc, err := i.run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range Plan(f.cfg) {
		if s.Check || slices.Contains([]string{"start-runtime", "apply-crds", "install-release"}, s.Name) {
			continue
		}
		if s.Done == nil {
			t.Errorf("%s changes the host but has no Done", s.Name)
			continue
		}
		if done, err := s.Done(context.Background(), sc); !done || err != nil {
			t.Errorf("%s: Done = %v, %v after it ran", s.Name, done, err)
		}
		if s.Undo == nil {
			t.Errorf("%s changes the host but has no Undo", s.Name)
		}
	}
}

// failingHost fails writes to one path.
type failingHost struct {
	host.Host
	path string
}

func (h failingHost) WriteFile(ctx context.Context, path string, data []byte, perm fs.FileMode) error {
	if strings.HasSuffix(path, h.path) {
		return errors.New("disk full")
	}
	return h.Host.WriteFile(ctx, path, data, perm)
}

func TestResumeAfterFailure(t *testing.T) {
	f := newFixture(t)
	i := Install{Config: f.cfg, Env: f.env(failingHost{Host: f.rec, path: "k0s.yaml"})}
	results, _, err := i.run(context.Background())
	if err == nil || err.Error() != "write-runtime-config: disk full" {
		t.Fatalf("error = %v, want write-runtime-config: disk full", err)
	}
	if got := results[len(results)-1]; got.Outcome != OutcomeFailed || got.Error != "disk full" {
		t.Errorf("last result = %+v", got)
	}
	j, _ := OpenJournal(f.rec, f.cfg.Paths().Journal())
	if j.State("write-install-state") != Succeeded || j.State("write-runtime-config") != Failed {
		t.Errorf("journal = %+v", j.Entries())
	}
	st, err := Inspect(context.Background(), f.rec, f.cfg.DataDir)
	if err != nil || !st.Installed || st.Complete {
		t.Errorf("status after a failed install = %+v, %v; want installed, not complete", st, err)
	}

	// Someone removed the recorded state meanwhile: the journal says succeeded, Done says no.
	if err := f.rec.RemoveAll(context.Background(), f.cfg.Paths().State()); err != nil {
		t.Fatal(err)
	}
	results, err = f.install(t)
	if err != nil {
		t.Fatal(err)
	}
	want := "verify-license=ok plan-network=ok check-install-state=ok host-preflights=ok prepare-data-dir=skipped write-install-state=ok write-license=skipped write-preflight-results=skipped " +
		"record-host-state=skipped stage-runtime=skipped write-runtime-config=ok write-containerd-config=ok write-cni-config=ok write-network-manifest=ok write-join-manifest=ok " +
		"start-runtime=ok wait-for-api=ok write-kubeconfig=ok wait-for-node=ok wait-for-system=ok " +
		"issue-webhook-certificates=ok issue-api-certificate=ok apply-crds=ok install-release=ok wait-for-operators=ok"
	if got := outcomes(results); got != want {
		t.Errorf("resumed run:\n%s\nwant\n%s", got, want)
	}
	if st, _ := Inspect(context.Background(), f.rec, f.cfg.DataDir); !st.Complete {
		t.Errorf("status after resuming = %+v, want complete", st)
	}
}

// TestStageRuntimeRedoneWhenItsCopiesAreGone: stage-runtime's effect is the payload, the copy of
// this binary and the links; a re-run stages again when any of them is gone or stale, not only
// when a payload file is.
func TestStageRuntimeRedoneWhenItsCopiesAreGone(t *testing.T) {
	ctx := context.Background()
	for name, damage := range map[string]func(f *fixture, l datadir.Layout) error{
		"the binary's copy removed": func(f *fixture, l datadir.Layout) error { return f.rec.RemoveAll(ctx, l.Self()) },
		"kubectl removed": func(f *fixture, l datadir.Layout) error {
			return f.rec.RemoveAll(ctx, filepath.Join(l.BinDir(), "kubectl"))
		},
		"a link retargeted": func(f *fixture, l datadir.Layout) error {
			return f.rec.Symlink(ctx, "/usr/sbin/xtables-legacy-multi", filepath.Join(l.K0sBinDir(), "xtables-nft-multi"))
		},
		"another binary runs": func(f *fixture, l datadir.Layout) error {
			return os.WriteFile(f.self, []byte("#!/bin/sh\necho a newer build\n"), 0o755)
		},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			if _, err := f.install(t); err != nil {
				t.Fatal(err)
			}
			if err := damage(f, f.cfg.Paths()); err != nil {
				t.Fatal(err)
			}
			results, err := f.install(t)
			if err != nil {
				t.Fatal(err)
			}
			i := slices.IndexFunc(results, func(r Result) bool { return r.Step == "stage-runtime" })
			if i < 0 || results[i].Outcome != OutcomeOK {
				t.Fatalf("stage-runtime after %s: %+v, want it run again", name, results)
			}
			self, _ := os.ReadFile(f.self)
			copied, err := f.rec.ReadFile(f.cfg.Paths().Self())
			if err != nil || !bytes.Equal(copied, self) {
				t.Errorf("the data dir's copy is %q (%v), want %q", copied, err, self)
			}
			if target, err := f.rec.Readlink(filepath.Join(f.cfg.Paths().K0sBinDir(), "xtables-nft-multi")); err != nil || target != "/usr/sbin/xtables-nft-multi" {
				t.Errorf("xtables-nft-multi -> %q, %v", target, err)
			}
		})
	}
}

func TestReinstall(t *testing.T) {
	f := newFixture(t)
	if _, err := f.install(t); err != nil {
		t.Fatal(err)
	}
	f.cfg.CIDR = "10.50.0.0/16"
	_, err := f.install(t)
	want := "check-install-state: mission-control is already installed in " + f.cfg.DataDir +
		" with pod range 10.244.0.0/17 (requested 10.50.0.0/17), service range 10.244.128.0/17 (requested 10.50.128.0/17): run mission-control reset first to reinstall differently"
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v\nwant    %s", err, want)
	}

	r := Reset{DataDir: f.cfg.DataDir, Env: f.env(f.rec)}
	results, err := r.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if got := outcomes(results); got != "issue-api-certificate=ok issue-webhook-certificates=ok wait-for-node=ok write-kubeconfig=ok start-runtime=ok write-join-manifest=ok write-network-manifest=ok write-cni-config=ok write-containerd-config=ok write-runtime-config=ok stage-runtime=ok record-host-state=ok write-preflight-results=ok write-license=ok write-install-state=ok prepare-data-dir=ok" {
		t.Errorf("reset: %s", got)
	}
	if e, _ := f.rec.Exists(f.cfg.DataDir); e {
		t.Fatal("reset left the data dir")
	}
	if _, err := f.install(t); err != nil {
		t.Fatalf("install on the new range after reset: %v", err)
	}
	if s, _ := LoadState(f.rec, f.cfg.Paths()); s.PodCIDR != "10.50.0.0/17" {
		t.Errorf("reinstalled state = %+v", s)
	}
}

// mountedDataDir is a fresh machine whose data dir is a mount point of its own (a dedicated disk,
// with ext4's lost+found), as operators often give it.
type mountedDataDir struct {
	hosttest.Fresh
	dataDir string
}

func (m mountedDataDir) ReadFile(path string) ([]byte, error) {
	data, err := m.Fresh.ReadFile(path)
	if path == "/proc/self/mountinfo" && err == nil {
		data = append(data, []byte("999 1 254:16 / "+m.dataDir+" rw,relatime - ext4 /dev/vdb rw\n")...)
	}
	return data, err
}

// TestResetEmptiesADataDirThatIsAMount: install takes a mounted data dir holding only lost+found
// (mode 0755: install makes it 0700); reset empties it, gives its mode back and leaves it mounted
// (no unmount, no removal of the mount point), and the next install takes it again.
func TestResetEmptiesADataDirThatIsAMount(t *testing.T) {
	f := newFixture(t)
	if err := os.MkdirAll(filepath.Join(f.cfg.DataDir, "lost+found"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(f.cfg.DataDir, 0o755); err != nil {
		t.Fatal(err)
	}
	f.rec = host.NewRecorder(mountedDataDir{dataDir: f.cfg.DataDir})
	if _, err := f.install(t); err != nil {
		t.Fatalf("install into a mounted data dir holding lost+found: %v", err)
	}
	before := len(f.rec.Ops())
	r := Reset{DataDir: f.cfg.DataDir, Env: f.env(f.rec)}
	if _, err := r.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, op := range f.rec.Ops()[before:] {
		if op.Path == f.cfg.DataDir && (op.Kind == "remove" || op.Kind == "unmount") {
			t.Errorf("reset did %s to the mounted data dir itself", op)
		}
	}
	names, err := f.rec.ReadDir(f.cfg.DataDir)
	if err != nil || !slices.Equal(names, []string{"lost+found"}) {
		t.Errorf("the data dir after reset holds %v (%v), want only lost+found", names, err)
	}
	if mode, err := dirMode(f.rec, f.cfg.DataDir); mode != 0o755 || err != nil {
		t.Errorf("the data dir's mode after reset is %v (%v), want it given back: 0755", mode, err)
	}
	if _, err := f.install(t); err != nil {
		t.Fatalf("install into the emptied data dir: %v", err)
	}
}

func TestResetRefusals(t *testing.T) {
	f := newFixture(t)
	r := Reset{DataDir: f.cfg.DataDir, Env: f.env(f.rec)}
	if _, err := r.Run(context.Background()); !errors.Is(err, ErrNotInstalled) {
		t.Errorf("reset of a missing data dir: %v, want ErrNotInstalled", err)
	}
	foreign := t.TempDir()
	if err := os.WriteFile(filepath.Join(foreign, "precious"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	r.DataDir = foreign
	if _, err := r.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "holds no mission-control install") {
		t.Errorf("reset of a foreign directory: %v", err)
	}
	for _, dir := range []string{"/", "/etc", "relative", "/var/lib"} {
		r.DataDir = dir
		if _, err := r.Run(context.Background()); err == nil || !strings.HasPrefix(err.Error(), "--data-dir") {
			t.Errorf("reset --data-dir %s: %v", dir, err)
		}
	}
	if len(f.rec.Ops()) > 0 {
		t.Errorf("refused resets changed the host: %v", f.rec.Ops())
	}
}

func TestInstallRefusesForeignDataDir(t *testing.T) {
	f := newFixture(t)
	f.cfg.DataDir = t.TempDir()
	if err := os.WriteFile(filepath.Join(f.cfg.DataDir, "precious"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := f.install(t)
	if err == nil || !strings.Contains(err.Error(), "is not empty and holds no mission-control install") {
		t.Fatalf("error = %v", err)
	}
	if len(f.rec.Ops()) > 0 {
		t.Errorf("changed the host: %v", f.rec.Ops())
	}
}

func TestPreflightFailures(t *testing.T) {
	f := newFixture(t)
	small := preflighttest.Roomy()
	small.MemoryBytes = 1 << 30
	f.facts.Analyzed = small.Facts("control-plane").Analyzed
	f.facts.Listening = []preflight.Listener{{Port: 6443, Process: "nc (pid 42)"}}
	_, err := f.install(t)
	want := "host-preflights: memory: 1.0 GiB; control-plane mode needs at least 4 GiB (use a host with more memory); " +
		"port 6443: in use by nc (pid 42); mission-control needs it for the Kubernetes API (stop nc (pid 42) or move it to another port); " +
		"fix them, or pass --ignore-host-preflights to install anyway (see mission-control preflight)"
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v\nwant    %s", err, want)
	}
	if len(f.rec.Ops()) > 0 {
		t.Fatalf("changed the host: %v", f.rec.Ops())
	}
	f.cfg.IgnoreHostPreflights = true
	results, err := f.install(t)
	if err != nil {
		t.Fatal(err)
	}
	if d := results[3].Detail; !strings.HasPrefix(d, "IGNORED 2 of 36 checks failed: memory, port 6443") {
		t.Errorf("preflight detail = %q", d)
	}
}

func TestConfirmation(t *testing.T) {
	f := newFixture(t)
	asked := 0
	i := Install{Config: f.cfg, Env: f.env(f.rec), Confirm: func(o Findings) error {
		asked++
		if o.Network.PodCIDR.String() != "10.244.0.0/17" || o.License == nil || o.Node.Address == (netip.Addr{}) || len(o.Preflights.Results) == 0 {
			t.Errorf("confirmation asked before the checks finished: %+v", o)
		}
		return errors.New("declined")
	}}
	if _, err := i.Run(context.Background()); err == nil || err.Error() != "declined" {
		t.Fatalf("error = %v", err)
	}
	if asked != 1 || len(f.rec.Ops()) > 0 {
		t.Fatalf("asked %d times; ops %v", asked, f.rec.Ops())
	}
	i.Confirm = func(Findings) error { asked++; return nil }
	if _, err := i.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.runtimeRunning(t)
	if _, err := i.Run(context.Background()); err == nil { // refused before anything would change: not asked
		t.Fatal("a second install ran")
	}
	if asked != 2 {
		t.Errorf("asked %d times, want 2", asked)
	}
}

func TestLicenseAndNetworkRefusals(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(t *testing.T, c *Config)
		wantErr string
	}{
		{"missing license file", func(t *testing.T, c *Config) { c.LicenseFile = "/nonexistent/license.yaml" },
			"verify-license: license file /nonexistent/license.yaml does not exist"},
		{"expired", func(t *testing.T, c *Config) {
			c.LicenseFile = writeLicense(t, func(s *license.Spec) { s.ExpiresAt = testNow.Add(-time.Minute); s.IssuedAt = testNow.AddDate(-1, 0, 0) })
		}, "L-TEST-0001 expired on 2026-11-22T11:59:00Z"},
		{"mode", func(t *testing.T, c *Config) {
			c.LicenseFile = writeLicense(t, func(s *license.Spec) { s.Entitlements.Modes = []string{ModeControlPlane} })
			c.Mode = ModeDataPlane
		}, "does not entitle data-plane mode"},
		{"airgap not entitled", func(t *testing.T, c *Config) { c.AirgapBundle = "/tmp/bundle.airgap" }, "does not entitle air-gapped installs"},
		{"overlap", func(t *testing.T, c *Config) { c.CIDR = "10.0.0.0/16" },
			"plan-network: pod range 10.0.0.0/17 overlaps host route 10.0.0.0/16 on eth1; choose a free range, e.g. --cidr 10.1.0.0/16"},
		{"interface", func(t *testing.T, c *Config) { c.NetworkInterface = "eth7" }, `plan-network: network interface "eth7" does not exist`},
		{"invalid", func(t *testing.T, c *Config) { c.Mode = "both"; c.ReleaseName = "Bad_Name" },
			"--mode \"both\" is not a mode: use control-plane or data-plane\n--release-name \"Bad_Name\" is not a Helm release name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			tt.mutate(t, &f.cfg)
			_, err := f.install(t)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v\nwant it to contain %s", err, tt.wantErr)
			}
			if len(f.rec.Ops()) > 0 {
				t.Fatalf("changed the host: %v", f.rec.Ops())
			}
		})
	}
}

func TestStatus(t *testing.T) {
	f := newFixture(t)
	st, err := Inspect(context.Background(), f.rec, f.cfg.DataDir)
	if err != nil || st.Installed {
		t.Fatalf("status before install = %+v, %v", st, err)
	}
	if _, err := f.install(t); err != nil {
		t.Fatal(err)
	}
	st, err = Inspect(context.Background(), f.rec, f.cfg.DataDir)
	if err != nil || !st.Installed || !st.Complete || st.State.NodeAddress != "192.0.2.2" || len(st.Steps) != 17 {
		t.Fatalf("status after install = %+v, %v", st, err)
	}
	if st.Steps[0].Step != "prepare-data-dir" || st.Steps[0].State != Succeeded || !st.Steps[0].Time.Equal(testNow) {
		t.Errorf("journal entry = %+v", st.Steps[0])
	}
}

// fakeCluster is a runtime that is up at once, with an admin kubeconfig.
type fakeCluster struct{ PlannedCluster }

func (fakeCluster) AdminKubeconfig(*StepContext) ([]byte, error) {
	return []byte("apiVersion: v1\nkind: Config\n"), nil
}

// fakeClusterCA is the fake runtime's CA: one for the whole test binary, as a runtime keeps its
// own across runs.
var fakeClusterCA = sync.OnceValues(func() (pki.CA, error) {
	return pki.NewCA("kubernetes-ca", 10*365*24*time.Hour, time.Now())
})

func (fakeCluster) ClusterCA(*StepContext) ([]byte, []byte, error) {
	ca, err := fakeClusterCA()
	return ca.CertPEM, ca.KeyPEM, err
}

func TestShell(t *testing.T) {
	f := newFixture(t)
	if _, err := Shell(f.rec, f.cfg.DataDir, nil, "", "/usr/bin"); err == nil || err.Error() != "mission-control is not installed in "+f.cfg.DataDir+": install it first, or pass its --data-dir" {
		t.Errorf("shell without an install: %v", err)
	}
	if _, err := f.install(t); err != nil {
		t.Fatal(err)
	}
	env := []string{"KUBECONFIG=" + f.cfg.DataDir + "/kubeconfig", "PATH=" + f.cfg.DataDir + "/bin:/usr/bin"}
	for _, tc := range []struct {
		args  []string
		shell string
		want  host.Command
	}{
		{[]string{"kubectl", "get", "nodes"}, "/bin/bash", host.Command{Name: "kubectl", Args: []string{"get", "nodes"}, Env: env}},
		{nil, "/bin/zsh", host.Command{Name: "/bin/zsh", Env: env}},
		{nil, "", host.Command{Name: "/bin/sh", Env: env}},
	} {
		got, err := Shell(f.rec, f.cfg.DataDir, tc.args, tc.shell, "/usr/bin")
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Shell(%v, %q) = %+v, %v; want %+v", tc.args, tc.shell, got, err, tc.want)
		}
	}
}

// stuckRuntime answers `k0s reset` as a k0s whose container runtime never answers does: it
// returns only when its context ends.
type stuckRuntime struct{ *host.Recorder }

func (s stuckRuntime) Run(ctx context.Context, c host.Command) ([]byte, error) {
	if len(c.Args) > 0 && c.Args[0] == "reset" {
		<-ctx.Done()
		return nil, &host.ExecError{Cmd: c.String(), Err: ctx.Err()}
	}
	return s.Recorder.Run(ctx, c)
}

// TestResetGoesOnWhenTheRuntimeDoesNotAnswer: k0s reset stuck on its container runtime is ended at
// reset's deadline; reset says what it could not do, ends the runtime's processes itself and
// removes the rest, so the host is clean and reset returns in time.
func TestResetGoesOnWhenTheRuntimeDoesNotAnswer(t *testing.T) {
	f := newFixture(t)
	if _, err := f.install(t); err != nil {
		t.Fatal(err)
	}
	env := f.env(stuckRuntime{f.rec})
	env.ResetTimeout = 50 * time.Millisecond
	type outcome struct {
		results []Result
		err     error
	}
	done := make(chan outcome, 1)
	go func() {
		res, err := (&Reset{DataDir: f.cfg.DataDir, Env: env}).Run(context.Background())
		done <- outcome{res, err}
	}()
	var got outcome
	select {
	case got = <-done:
	case <-time.After(time.Minute):
		t.Fatal("reset did not return after k0s reset's deadline")
	}
	if got.err != nil {
		t.Fatalf("reset: %v", got.err)
	}
	i := slices.IndexFunc(got.results, func(r Result) bool { return r.Step == "start-runtime" })
	if i < 0 || got.results[i].Outcome != OutcomeOK || !strings.Contains(got.results[i].Detail, "k0s reset did not finish within 50ms") {
		t.Errorf("start-runtime's undo = %+v, want ok with a detail naming k0s reset's deadline", got.results)
	}
	if e, _ := f.rec.Exists(f.cfg.DataDir); e {
		t.Error("reset left the data dir")
	}
}

// TestTelemetryAggregator: a data plane's aggregator URL becomes the host:port preflight dials,
// port 30600 when the URL names none.
func TestTelemetryAggregator(t *testing.T) {
	for url, want := range map[string]string{"http://10.0.0.5:30600": "10.0.0.5:30600", "https://cp-east": "cp-east:30600", "http://cp-east/": "cp-east:30600", "": ""} {
		cfg := DefaultConfig()
		cfg.Mode, cfg.TelemetryAggregatorURL = ModeDataPlane, url
		if got, err := cfg.TelemetryAggregator(); err != nil || got != want {
			t.Errorf("%q: %q, %v; want %q", url, got, err, want)
		}
	}
}

// TestExistingDataDirIsTightened: a data dir that exists before the install (e.g. a disk mounted
// there, mode 0755) is made root's alone, as a new one is.
func TestExistingDataDirIsTightened(t *testing.T) {
	f := newFixture(t)
	f.cfg.DataDir = filepath.Join(t.TempDir(), "mc")
	if err := os.Mkdir(f.cfg.DataDir, 0o755); err != nil {
		t.Fatal(err)
	}
	f.rec = host.NewRecorder(host.System{})
	_, _ = f.install(t) // what follows on this machine does not matter here
	var chmods []string
	for _, op := range f.rec.Ops() {
		if op.Kind == "chmod" {
			chmods = append(chmods, op.Step+": "+op.String())
		}
	}
	if want := "prepare-data-dir: chmod " + f.cfg.DataDir + " (0700)"; !slices.Equal(chmods, []string{want}) {
		t.Errorf("chmods %v, want [%s]", chmods, want)
	}
	if kept, err := f.rec.ReadFile(filepath.Join(f.cfg.DataDir, "mode-before-install")); string(kept) != "0755\n" || err != nil {
		t.Errorf("the mode before install kept as %q (%v), want 0755", kept, err)
	}
}

// TestInstallTrustsTheOIDCIssuer: --oidc-* flags reach the API server's configuration, the CA is
// kept in the data dir, and joining controllers learn the issuer from the join facts.
func TestInstallTrustsTheOIDCIssuer(t *testing.T) {
	f := newFixture(t)
	ca, err := fakeClusterCA() // any CA's certificate serves as the issuer's
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(t.TempDir(), "sso-ca.pem")
	if err := os.WriteFile(caFile, ca.CertPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	f.cfg.OIDCIssuerURL, f.cfg.OIDCClientID, f.cfg.OIDCUsernameClaim, f.cfg.OIDCGroupsClaim, f.cfg.OIDCCAFile = "https://sso.example.com/realms/ops", "mission-control", "email", "groups", caFile
	if _, err := f.install(t); err != nil {
		t.Fatal(err)
	}
	paths := f.cfg.Paths()
	if got, err := f.rec.ReadFile(paths.OIDCCAFile()); err != nil || string(got) != string(ca.CertPEM) {
		t.Errorf("the issuer's CA in the data dir: %v", err)
	}
	config, err := f.rec.ReadFile(paths.ConfigFile())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"oidc-issuer-url: https://sso.example.com/realms/ops", "oidc-client-id: mission-control", "oidc-ca-file: " + paths.OIDCCAFile(), "oidc-groups-claim: groups"} {
		if !strings.Contains(string(config), want) {
			t.Errorf("k0s.yaml lacks %q", want)
		}
	}
	manifest, err := f.rec.ReadFile(paths.JoinManifest())
	if err != nil || !strings.Contains(string(manifest), `oidc: '{"issuerURL":"https://sso.example.com/realms/ops"`) {
		t.Errorf("the join facts do not carry the issuer (%v):\n%s", err, manifest)
	}
	// A second run finds it all in place.
	results, err := f.install(t)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		if r.Step == "write-runtime-config" && r.Outcome != OutcomeSkipped {
			t.Errorf("the second run wrote the runtime config again: %s", r.Outcome)
		}
	}
}

// TestStatusOfADataPlane: a data plane's install is complete without the control plane's steps
// (the API's certificate).
func TestStatusOfADataPlane(t *testing.T) {
	f := newFixture(t)
	f.cfg.Mode = ModeDataPlane
	if _, err := f.install(t); err != nil {
		t.Fatal(err)
	}
	st, err := Inspect(context.Background(), f.rec, f.cfg.DataDir)
	if err != nil || !st.Installed || !st.Complete || st.State.Mode != ModeDataPlane {
		t.Fatalf("status of a data plane after install = %+v, %v", st, err)
	}
	for _, s := range st.Steps {
		if s.Step == "issue-api-certificate" {
			t.Error("a data plane issued the API's certificate")
		}
	}
}
