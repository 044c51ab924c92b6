// Package licensetest makes real signed licenses for tests, with the development key that default
// builds trust.
package licensetest

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/datastax/mission-control/internal/host"
	"github.com/datastax/mission-control/internal/license"
	"github.com/datastax/mission-control/internal/releasekey"
)

// Spec is a license valid at now: issued a month before, expiring a year after, entitling both
// modes on one node.
func Spec(id string, now time.Time) license.Spec {
	return license.Spec{
		LicenseID: id, Customer: "Test Corp",
		IssuedAt: now.AddDate(0, -1, 0), ExpiresAt: now.AddDate(1, 0, 0),
		Entitlements: license.Entitlements{Modes: []string{license.ModeControlPlane, license.ModeDataPlane}, MaxNodes: 1},
	}
}

// Write signs spec with the development key into a temporary file and returns its path.
func Write(t testing.TB, spec license.Spec) string {
	t.Helper()
	keyPEM, err := os.ReadFile(filepath.Join(moduleRoot(t), "examples", "development-license.key"))
	if err != nil {
		t.Fatal(err)
	}
	key, err := releasekey.ParsePrivate(keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	l, err := license.Sign(spec, key)
	if err != nil {
		t.Fatal(err)
	}
	data, err := l.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "license.yaml")
	if err := (host.System{}).WriteFile(context.Background(), p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// moduleRoot is the directory of go.mod above the test's working directory (its package's): the
// tests build with -trimpath, so the source's own path is not a file name.
func moduleRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}
