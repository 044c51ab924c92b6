//go:build e2e

package e2e

import (
	"os"
	"testing"
	"time"

	"github.com/datastax/mission-control/internal/testhost"
)

// takeSnapshot reads what reset must leave as install found it; network state is netns's.
func takeSnapshot(t *testing.T) testhost.Snapshot {
	t.Helper()
	s, err := testhost.TakeSnapshot(within(t, 2*time.Minute), netns)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func readFile(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
