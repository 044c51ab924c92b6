package commands

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/datastax/mission-control/installer"
	"github.com/datastax/mission-control/internal/check"
	"github.com/datastax/mission-control/internal/cli"
	"github.com/datastax/mission-control/internal/cli/clitest"
	"github.com/datastax/mission-control/internal/license"
	"github.com/datastax/mission-control/internal/releasekey"
	"github.com/datastax/mission-control/internal/version"
	"github.com/datastax/mission-control/supportbundle"
)

// TestStatusAndResetWithoutInstall: status and reset on a data dir with no install. Real installs
// start the runtime, so the lifecycle is tested end to end (e2e/).
func TestStatusAndResetWithoutInstall(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "mc")
	r := run(t, testDeps(), "", "status", "--data-dir", dataDir)
	if r.code != statusNotInstalled || !strings.Contains(r.stdout, "is not installed") || r.stderr != "" {
		t.Errorf("status: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = run(t, testDeps(), "", "status", "--data-dir", dataDir, "-o", "json")
	var st installer.Status
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil || st.Installed || st.Runtime != nil {
		t.Errorf("status -o json: %v\n%s", err, r.stdout)
	}
	for _, args := range [][]string{{"reset", "--data-dir", dataDir, "--yes"}, {"reset", "--data-dir", dataDir, "--dry-run"}} {
		r = run(t, testDeps(), "", args...)
		if r.code != 0 || !strings.Contains(r.stdout, "Nothing to reset") {
			t.Errorf("%v: exit %d\n%s%s", args, r.code, r.stdout, r.stderr)
		}
	}
	if exists(dataDir) {
		t.Fatal("status or reset created the data dir")
	}
}

func TestPreflightCommand(t *testing.T) {
	r := run(t, testDeps(), "", "preflight", "--mode", "data-plane")
	if r.code != 0 || !strings.Contains(r.stdout, "node address             PASS   192.0.2.2 on eth0") {
		t.Errorf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	deps := testDeps()
	r = run(t, deps, "", "preflight", "--cidr", "10.0.0.0/16", "-o", "json")
	if r.code != 1 || r.stderr != "Error: host preflights failed: 1 of 36 checks failed: network ranges\n" {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, `"remedy": "choose a free range, e.g. --cidr 10.1.0.0/16"`) {
		t.Errorf("json lacks the remedy:\n%s", r.stdout)
	}
	if r := run(t, deps, "", "preflight", "--cidr", "10.0.0.1/16"); r.code != 1 || !strings.Contains(r.stderr, "did you mean 10.0.0.0/16?") {
		t.Errorf("bad cidr: exit %d, stderr %q", r.code, r.stderr)
	}
	if r := run(t, deps, "", "preflight", "--airgap-bundle", "/nonexistent/mc.airgap"); r.code != 1 || r.stderr != "Error: --airgap-bundle /nonexistent/mc.airgap does not exist: pass the path of mission-control-"+version.Version+".airgap, the bundle of this version\n" {
		t.Errorf("missing bundle: exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestLicenseInspect(t *testing.T) {
	r := run(t, testDeps(), "", "license", "inspect", exampleLicense)
	if r.code != 0 || !strings.Contains(r.stdout, "License L-DEV-0001") || !strings.Contains(r.stdout, "verification:  VALID") {
		t.Errorf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	expired := signLicense(t, func(s *license.Spec) { s.ExpiresAt = testNow.Add(-time.Hour) })
	r = run(t, testDeps(), "", "license", "inspect", expired, "-o", "json")
	var in license.Inspection
	if err := json.Unmarshal([]byte(r.stdout), &in); err != nil || in.Valid || !strings.Contains(in.Problem, "expired") {
		t.Errorf("expired license: %v\n%s", err, r.stdout)
	}
	if r.code != 1 || !strings.HasPrefix(r.stderr, "Error: license "+expired+": L-CLI-1 expired") {
		t.Errorf("expired license: exit %d, stderr %q", r.code, r.stderr)
	}
	for _, args := range [][]string{{"license", "inspect"}, {"license", "inspect", "a", "b"}, {"license", "inspect", "/nonexistent"}} {
		if r := run(t, testDeps(), "", args...); r.code != 1 || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q", args, r.code, r.stderr)
		}
	}
}

func TestVersion(t *testing.T) {
	r := run(t, testDeps(), "", "version", "-o", "json")
	var v versionInfo
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil || v.Kubernetes == "" || !v.DevelopmentLicKey || v.LicenseKey != releasekey.ID(releasekey.Trusted()) {
		t.Errorf("version: %v\n%s", err, r.stdout)
	}
}

func TestCompletion(t *testing.T) {
	r := run(t, testDeps(), "", "completion", "bash")
	if r.code != 0 || !strings.Contains(r.stdout, "bash completion") || !strings.Contains(r.stdout, "mission-control") {
		t.Errorf("exit %d, %d bytes", r.code, len(r.stdout))
	}
}

// TestHelpExplainsEveryFlag holds every command to the help standard.
func TestHelpExplainsEveryFlag(t *testing.T) {
	clitest.AssertHelp(t, newRootCmd(cli.Streams{}, testDeps()))
	r := run(t, testDeps(), "", "install", "--help")
	for _, flag := range []string{"--license", "--cidr", "--pod-cidr", "--service-cidr", "--mode", "--data-dir", "--airgap-bundle", "--network-interface", "--release-name", "--yes", "--ignore-host-preflights", "--dry-run", "--output"} {
		if !strings.Contains(r.stdout, flag) {
			t.Errorf("install --help lacks %s", flag)
		}
	}
}

func TestShellNeedsAnInstall(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "mc")
	r := run(t, testDeps(), "", "shell", "--data-dir", dataDir, "--", "kubectl", "get", "nodes")
	if r.code != 1 || r.stderr != "Error: mission-control is not installed in "+dataDir+": install it first, or pass its --data-dir\n" {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestSupportBundleCommand(t *testing.T) {
	deps := testDeps()
	out := filepath.Join(t.TempDir(), "case.tar.gz")
	var got supportbundle.Options
	deps.SupportBundle = func(_ context.Context, o supportbundle.Options) (supportbundle.Result, error) {
		got = o
		o.Progress("[routes] Running host collector...")
		return supportbundle.Result{
			Archive:      o.Out,
			Size:         3 << 20,
			Analysis:     []check.Result{{Check: "cass-operator", Status: check.Fail, Message: "cass-operator has no ready replica"}},
			ClusterError: errors.New("the API at 127.0.0.1:6443 does not answer"),
		}, nil
	}
	r := run(t, deps, "", "support-bundle", "--out", out, "--data-dir", "/srv/mc")
	if r.code != 0 || got.DataDir != "/srv/mc" || got.Out != out {
		t.Fatalf("exit %d, options %+v\n%s%s", r.code, got, r.stdout, r.stderr)
	}
	for _, want := range []string{"cass-operator                FAIL   cass-operator has no ready replica", "Cluster not collected: the API at 127.0.0.1:6443 does not answer", "Support bundle written to " + out + " (3.0 MiB)"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	if !strings.Contains(r.stderr, "  [routes] Running host collector...") {
		t.Errorf("stderr lacks the progress:\n%s", r.stderr)
	}
	if r := run(t, deps, "", "support-bundle", "-q", "--out", out); r.code != 0 || r.stderr != "" || !strings.Contains(r.stdout, "Support bundle written to "+out) {
		t.Errorf("-q: exit %d, stderr %q (want none), stdout %s", r.code, r.stderr, r.stdout)
	}
	deps.Geteuid = func() int { return 1000 }
	if r := run(t, deps, "", "support-bundle"); r.code != 1 || !strings.Contains(r.stderr, "must run as root") {
		t.Errorf("non-root: exit %d, %q", r.code, r.stderr)
	}
	if r := run(t, testDeps(), "", "support-bundle", "--out", t.TempDir()); r.code != 1 || !strings.Contains(r.stderr, "is a directory: pass a file name") {
		t.Errorf("directory output: exit %d, %q", r.code, r.stderr)
	}
	// A system directory as the data dir would collect /etc as the install's configuration.
	for _, dir := range []string{"/", "/etc", "relative"} {
		if r := run(t, testDeps(), "", "support-bundle", "--data-dir", dir); r.code != 1 || !strings.Contains(r.stderr, "Error: --data-dir") || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("--data-dir %s: exit %d, %q", dir, r.code, r.stderr)
		}
	}
}

// TestTimeoutFlagsRefuseTooShort: a wait or reset deadline too short to ever succeed is refused
// up front, in one line naming the flag and a value that works.
func TestTimeoutFlagsRefuseTooShort(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "mc")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"install", "--license", "../../../examples/license.yaml", "--data-dir", dataDir, "--dry-run", "--wait-timeout", "2s"},
			"Error: --wait-timeout 2s is too short: give at least 10s (e.g. --wait-timeout 3m)\n"},
		{[]string{"reset", "--data-dir", dataDir, "--yes", "--runtime-timeout", "0s"},
			"Error: --runtime-timeout 0s is too short: give at least 1s (e.g. --runtime-timeout 1m)\n"},
	} {
		if r := run(t, testDeps(), "", tc.args...); r.code != 1 || r.stderr != tc.want {
			t.Errorf("%v: exit %d, stderr %q, want %q", tc.args, r.code, r.stderr, tc.want)
		}
		if _, err := os.Stat(dataDir); !os.IsNotExist(err) {
			t.Errorf("%v touched %s", tc.args, dataDir)
		}
	}
	if r := run(t, testDeps(), "", "install", "--license", "../../../examples/license.yaml", "--data-dir", dataDir, "--dry-run", "--wait-timeout", "2m"); r.code != 0 {
		t.Errorf("install --dry-run --wait-timeout 2m: exit %d, %s", r.code, r.stderr)
	}
}

// TestResetConfirmationCountsVolumes: reset's question says how much data it deletes and whose;
// declined, it changes nothing.
func TestResetConfirmationCountsVolumes(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "mc")
	for path, size := range map[string]int{
		"install.yaml": 0,
		"storage/demo_server-data-demo-dc1-sts-0_pvc-1/data/nb-1-big-Data.db": 1536,
		"storage/demo_server-data-demo-dc1-sts-1_pvc-2/commitlog":             512,
	} {
		content := make([]byte, size)
		if path == "install.yaml" {
			content = []byte("mode: control-plane\npodCIDR: 10.0.0.0/17\nserviceCIDR: 10.0.128.0/17\n")
		}
		if err := os.MkdirAll(filepath.Join(dataDir, filepath.Dir(path)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dataDir, path), content, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	deps := testDeps()
	deps.Interactive = func(io.Reader) bool { return true }
	r := run(t, deps, "n\n", "reset", "--data-dir", dataDir)
	want := "Remove mission-control (control-plane, pods 10.0.0.0/17, services 10.0.128.0/17) and everything in " + dataDir +
		", including 2 volumes holding 2.0 KiB of data (demo/server-data-demo-dc1-sts-0 1.5 KiB, demo/server-data-demo-dc1-sts-1 512 B)?"
	if r.code != 1 || !strings.Contains(r.stderr, want) || !strings.Contains(r.stderr, "reset cancelled: nothing was changed") {
		t.Errorf("exit %d, stderr:\n%s\nwant:\n%s", r.code, r.stderr, want)
	}
	if !exists(filepath.Join(dataDir, "storage", "demo_server-data-demo-dc1-sts-0_pvc-1")) {
		t.Error("a declined reset removed a volume")
	}
}

// TestDevelopmentBuildSaysSo: a build that trusts the development key says so with every
// install, preflight and status result, text or not; a release build does not.
func TestDevelopmentBuildSaysSo(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "mc")
	for _, args := range [][]string{
		{"install", "--license", exampleLicense, "--data-dir", dataDir, "--cidr", "10.96.0.0/16", "--dry-run"},
		{"preflight", "--mode", "data-plane"},
		{"status", "--data-dir", dataDir},
	} {
		t.Run(args[0], func(t *testing.T) {
			dev := testDeps()
			dev.DevelopmentBuild = true
			r := run(t, dev, "", args...)
			if first, _, _ := strings.Cut(r.stdout, "\n"); first != developmentNotice {
				t.Errorf("first line %q, want %q", first, developmentNotice)
			}
			r = run(t, dev, "", append(args, "-o", "json")...)
			if !strings.HasPrefix(r.stderr, "Warning: "+developmentNotice+"\n") || !json.Valid([]byte(r.stdout)) {
				t.Errorf("-o json: stderr %q, stdout valid JSON %v", r.stderr, json.Valid([]byte(r.stdout)))
			}
			if r := run(t, testDeps(), "", args...); strings.Contains(r.stdout+r.stderr, developmentNotice) {
				t.Errorf("a release build says %q", r.stdout+r.stderr)
			}
		})
	}
	if !SystemDeps().DevelopmentBuild {
		t.Error("this test binary trusts the development key, but SystemDeps does not say so")
	}
}

func TestAdminTokenRefusals(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "mc")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"admin-token", "--data-dir", dataDir}, "Error: mission-control is not installed in " + dataDir + ": run admin-token on the cluster's controller, or pass its --data-dir\n"},
		{[]string{"admin-token", "--data-dir", dataDir, "--duration", "1m"}, "Error: --duration 1m0s: give between 10m and 168h (e.g. --duration 8h)\n"},
	} {
		r := run(t, testDeps(), "", c.args...)
		if r.code != 1 || r.stderr != c.want || r.stdout != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", c.args, r.code, r.stdout, r.stderr)
		}
	}
	if exists(dataDir) {
		t.Fatal("admin-token created the data dir")
	}
}
