// Package testenv decides whether a test that needs more than plain Go (root, a real runtime, the
// end-to-end opt-in) can run here, and says why when it cannot.
package testenv

import (
	"os"
	"strings"
	"testing"
)

// Need is something a test requires of its environment.
type Need int

const (
	// Root: the test changes the host (mounts, sysctls, /var/lib) and must run as root.
	Root Need = iota
	// E2E: the test is end-to-end (slow, real runtime); it runs only with MC_E2E=1 and never
	// under -short.
	E2E
)

// Require skips t, naming the reason, unless every need is met. Under CI=true an unmet need fails
// the test instead: CI must run everything, so a skip there would hide untested code.
func Require(t testing.TB, needs ...Need) {
	t.Helper()
	var missing []string
	for _, n := range needs {
		switch n {
		case Root:
			if os.Geteuid() != 0 {
				missing = append(missing, "needs root (run make test as root, e.g. sudo make test)")
			}
		case E2E:
			if testing.Short() {
				missing = append(missing, "end-to-end test skipped under -short")
			} else if os.Getenv("MC_E2E") != "1" {
				missing = append(missing, "end-to-end test runs only with MC_E2E=1 (make test sets it)")
			}
		}
	}
	if len(missing) == 0 {
		return
	}
	Unmet(t, strings.Join(missing, "; "))
}

// Unmet skips t for reason, or fails it under CI=true (see Require).
func Unmet(t testing.TB, reason string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("cannot run in CI: %s", reason)
		return
	}
	t.Skip(reason)
}
