// Package licensetest makes real signed licenses for tests, with the development key that default
// builds trust.
package licensetest

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/datastax/mission-control/installer/license"
	"github.com/datastax/mission-control/internal/host"
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
	_, here, _, _ := runtime.Caller(0)
	keyPEM, err := os.ReadFile(filepath.Join(filepath.Dir(here), "..", "..", "..", "examples", "development-license.key"))
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
