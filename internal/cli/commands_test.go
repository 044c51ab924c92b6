package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/datastax/mission-control/installer/license"
	"github.com/datastax/mission-control/internal/check"
	"github.com/datastax/mission-control/internal/releasekey"
	"github.com/datastax/mission-control/internal/version"
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
	var st statusReport
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
	if r.code != 1 || r.stderr != "Error: host preflights failed: 1 of 32 checks failed: network ranges\n" {
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
	var in inspection
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

// TestHelpExplainsEveryFlag holds every command to the help standard: an example per command,
// and an example in the usage of every flag that takes a value.
func TestHelpExplainsEveryFlag(t *testing.T) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Runnable() && c.Name() != "help" && !strings.HasPrefix(c.CommandPath(), "mission-control completion") && c.Example == "" {
			t.Errorf("%s has no example", c.CommandPath())
		}
		c.LocalFlags().VisitAll(func(f *pflag.Flag) {
			if f.Value.Type() != "bool" && f.Name != "help" && !strings.Contains(f.Usage, "e.g.") {
				t.Errorf("%s --%s: usage has no example: %q", c.CommandPath(), f.Name, f.Usage)
			}
		})
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(newMissionControlCmd(Streams{}, testDeps()))
	walk(newMCCtlCmd(Streams{}))
	var out bytes.Buffer
	if code := RunMCLicense(context.Background(), Streams{Out: &out, Err: &out}, []string{"sign", "--help"}, time.Now); code != 0 || !strings.Contains(out.String(), "--max-nodes") {
		t.Errorf("mclicense sign --help: exit %d\n%s", code, out.String())
	}
	r := run(t, testDeps(), "", "install", "--help")
	for _, flag := range []string{"--license", "--cidr", "--pod-cidr", "--service-cidr", "--mode", "--data-dir", "--airgap-bundle", "--network-interface", "--release-name", "--yes", "--ignore-host-preflights", "--dry-run", "--output"} {
		if !strings.Contains(r.stdout, flag) {
			t.Errorf("install --help lacks %s", flag)
		}
	}
}

func runMCLicense(t *testing.T, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	code := RunMCLicense(context.Background(), Streams{In: strings.NewReader(""), Out: &out, Err: &errOut}, args, func() time.Time { return testNow })
	return result{code: code, stdout: out.String(), stderr: errOut.String()}
}

func TestMCLicense(t *testing.T) {
	dir := t.TempDir()
	priv, pub, lic := filepath.Join(dir, "k.key"), filepath.Join(dir, "k.pub"), filepath.Join(dir, "l.yaml")
	r := runMCLicense(t, "keygen", "--private-key", priv, "--public-key", pub)
	if r.code != 0 || !strings.Contains(r.stdout, "make LICENSE_PUBLIC_KEY=MCow") {
		t.Fatalf("keygen: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if fi, err := os.Stat(priv); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("private key mode: %v, %v", fi.Mode(), err)
	}
	if r := runMCLicense(t, "keygen", "--private-key", priv, "--public-key", pub); r.code != 1 || !strings.Contains(r.stderr, "exists: choose another path, or pass --force") {
		t.Errorf("keygen over existing files: exit %d, %s", r.code, r.stderr)
	}
	r = runMCLicense(t, "sign", "--private-key", priv, "--license-id", "L-9", "--customer", "Acme", "--expires", "2027-12-31", "--modes", "data-plane", "--max-nodes", "5", "--airgap", "-o", lic)
	if r.code != 0 {
		t.Fatalf("sign: exit %d\n%s", r.code, r.stderr)
	}
	r = runMCLicense(t, "verify", "--public-key", pub, lic)
	if r.code != 0 || r.stdout != "license L-9 (Acme) is valid until 2027-12-31T00:00:00Z, signed by key "+keyIDOf(t, pub)+"\n" {
		t.Errorf("verify: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	data, _ := os.ReadFile(lic)
	l, err := license.Parse(data)
	if err != nil || !l.Spec.IssuedAt.Equal(testNow) || l.Spec.Entitlements.MaxNodes != 5 || !l.Spec.Entitlements.Airgap {
		t.Errorf("signed spec: %+v, %v", l, err)
	}
	// This build trusts the development key, not the new one.
	if r := run(t, testDeps(), "", "license", "inspect", lic); r.code != 1 || !strings.Contains(r.stderr, "but this build trusts key") {
		t.Errorf("inspect with another key: exit %d, %s", r.code, r.stderr)
	}
	for _, bad := range [][]string{
		{"sign", "--license-id", "x"},
		{"sign", "--private-key", priv, "--license-id", "L", "--customer", "C"},
		{"sign", "--private-key", priv, "--license-id", "L", "--customer", "C", "--expires", "someday"},
		{"sign", "--private-key", priv, "--license-id", "", "--customer", "C", "--expires", "2030-01-01"},
		{"sign", "--private-key", pub, "--license-id", "L", "--customer", "C", "--expires", "2030-01-01"},
		{"verify", lic},
		{"verify", "--public-key", priv, lic},
		{"keygen"},
	} {
		if r := runMCLicense(t, bad...); r.code != 1 || strings.Count(r.stderr, "\n") != 1 || r.stdout != "" {
			t.Errorf("%v: exit %d, stderr %q, stdout %q", bad, r.code, r.stderr, r.stdout)
		}
	}
}

func keyIDOf(t *testing.T, pubPath string) string {
	data, err := os.ReadFile(pubPath)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := releasekey.ParsePublic(data)
	if err != nil {
		t.Fatal(err)
	}
	return releasekey.ID(pub)
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
	var got SupportBundleOptions
	deps.SupportBundle = func(_ context.Context, o SupportBundleOptions) (SupportBundleReport, error) {
		got = o
		o.Progress("[routes] Running host collector...")
		return SupportBundleReport{
			Analysis:     []check.Result{{Check: "cass-operator", Status: check.Fail, Message: "cass-operator has no ready replica"}},
			ClusterError: errors.New("the API at 127.0.0.1:6443 does not answer"),
		}, os.WriteFile(o.Output, []byte("archive"), 0o600)
	}
	r := run(t, deps, "", "support-bundle", "-o", out, "--data-dir", "/srv/mc")
	if r.code != 0 || got.DataDir != "/srv/mc" || got.Output != out {
		t.Fatalf("exit %d, options %+v\n%s%s", r.code, got, r.stdout, r.stderr)
	}
	for _, want := range []string{"cass-operator                FAIL   cass-operator has no ready replica", "Cluster not collected: the API at 127.0.0.1:6443 does not answer", "Support bundle written to " + out} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	if !strings.Contains(r.stderr, "  [routes] Running host collector...") {
		t.Errorf("stderr lacks the progress:\n%s", r.stderr)
	}
	if r := run(t, deps, "", "support-bundle", "-q", "-o", out); r.code != 0 || r.stderr != "" || !strings.Contains(r.stdout, "Support bundle written to "+out) {
		t.Errorf("-q: exit %d, stderr %q (want none), stdout %s", r.code, r.stderr, r.stdout)
	}
	deps.Geteuid = func() int { return 1000 }
	if r := run(t, deps, "", "support-bundle"); r.code != 1 || !strings.Contains(r.stderr, "must run as root") {
		t.Errorf("non-root: exit %d, %q", r.code, r.stderr)
	}
	if r := run(t, testDeps(), "", "support-bundle", "-o", t.TempDir()); r.code != 1 || !strings.Contains(r.stderr, "is a directory: pass a file name") {
		t.Errorf("directory output: exit %d, %q", r.code, r.stderr)
	}
}
