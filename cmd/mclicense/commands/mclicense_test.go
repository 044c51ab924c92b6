package commands

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/datastax/mission-control/internal/cli"
	"github.com/datastax/mission-control/internal/cli/clitest"
	"github.com/datastax/mission-control/internal/host"
	"github.com/datastax/mission-control/internal/license"
	"github.com/datastax/mission-control/internal/releasekey"
)

var testNow = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

func run(args ...string) clitest.Result {
	return clitest.Run(func(s cli.Streams, a []string) int {
		return Run(context.Background(), s, a, Deps{Host: host.System{}, Now: func() time.Time { return testNow }})
	}, "", args...)
}

func TestHelp(t *testing.T) {
	clitest.AssertHelp(t, newRootCmd(cli.Streams{}, Deps{Host: host.System{}, Now: time.Now}))
	if r := run("sign", "--help"); !strings.Contains(r.Stdout, "--max-nodes") || !strings.Contains(r.Stdout, "--out") {
		t.Errorf("sign --help:\n%s", r.Stdout)
	}
}

func TestMCLicense(t *testing.T) {
	dir := t.TempDir()
	priv, pub, lic := filepath.Join(dir, "k.key"), filepath.Join(dir, "k.pub"), filepath.Join(dir, "l.yaml")
	r := run("keygen", "--private-key", priv, "--public-key", pub)
	if r.Code != 0 || !strings.Contains(r.Stdout, "make LICENSE_PUBLIC_KEY=MCow") {
		t.Fatalf("keygen: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	if fi, err := os.Stat(priv); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("private key mode: %v, %v", fi.Mode(), err)
	}
	if r := run("keygen", "--private-key", priv, "--public-key", pub); r.Code != 1 || !strings.Contains(r.Stderr, "exists: choose another path, or pass --force") {
		t.Errorf("keygen over existing files: exit %d, %s", r.Code, r.Stderr)
	}
	r = run("sign", "--private-key", priv, "--license-id", "L-9", "--customer", "Acme", "--expires", "2027-12-31", "--modes", "data-plane", "--max-nodes", "5", "--airgap", "--out", lic)
	if r.Code != 0 {
		t.Fatalf("sign: exit %d\n%s", r.Code, r.Stderr)
	}
	r = run("verify", "--public-key", pub, lic)
	if r.Code != 0 || r.Stdout != "license L-9 (Acme) is valid until 2027-12-31T00:00:00Z, signed by key "+keyIDOf(t, pub)+"\n" {
		t.Errorf("verify: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	data, _ := os.ReadFile(lic)
	l, err := license.Parse(data)
	if err != nil || !l.Spec.IssuedAt.Equal(testNow) || l.Spec.Entitlements.MaxNodes != 5 || !l.Spec.Entitlements.Airgap {
		t.Errorf("signed spec: %+v, %v", l, err)
	}
	// This build trusts the development key, not the new one.
	if in, err := license.Inspect(host.System{}, lic, releasekey.Trusted(), testNow); err != nil || in.Valid || !strings.Contains(in.Problem, "but this build trusts key") {
		t.Errorf("inspect with another key: %+v, %v", in, err)
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
		if r := run(bad...); r.Code != 1 || strings.Count(r.Stderr, "\n") != 1 || r.Stdout != "" {
			t.Errorf("%v: exit %d, stderr %q, stdout %q", bad, r.Code, r.Stderr, r.Stdout)
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
