//go:build e2e

package e2e

import (
	"testing"
	"time"

	"github.com/datastax/mission-control/internal/testhost"
)

// startNetGuard keeps the runtime installed on cidr from sending anything off this machine until
// the test ends.
func startNetGuard(t testing.TB, cidr string) {
	t.Helper()
	if err := testhost.GuardUp(within(t, time.Minute), cidr); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := testhost.GuardDown(within(t, time.Minute)); err != nil {
			t.Error(err)
		}
	})
}
