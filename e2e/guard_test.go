//go:build e2e

package e2e

import (
	"context"
	"testing"

	"github.com/datastax/mission-control/e2e/testhost"
)

// startNetGuard keeps the runtime installed on cidr from sending anything off this machine until
// the test ends.
func startNetGuard(t testing.TB, cidr string) {
	t.Helper()
	if err := testhost.GuardUp(context.Background(), cidr); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := testhost.GuardDown(context.Background()); err != nil {
			t.Error(err)
		}
	})
}
