package testenv

import (
	"fmt"
	"os"
	"testing"
)

// recorder stands in for a test to see whether Require skips or fails it.
type recorder struct {
	testing.TB
	skipped, failed string
}

func (r *recorder) Helper()                   {}
func (r *recorder) Skip(args ...any)          { r.skipped = fmt.Sprint(args...) }
func (r *recorder) Fatalf(f string, a ...any) { r.failed = fmt.Sprintf(f, a...) }

func TestRequire(t *testing.T) {
	t.Setenv("MC_E2E", "")
	t.Setenv("CI", "")
	r := &recorder{TB: t}
	Require(r, E2E)
	if r.skipped == "" || r.failed != "" {
		t.Errorf("without MC_E2E: skipped %q, failed %q; want a skip", r.skipped, r.failed)
	}
	t.Setenv("CI", "true")
	r = &recorder{TB: t}
	Require(r, E2E)
	if r.failed == "" || r.skipped != "" {
		t.Errorf("in CI: skipped %q, failed %q; want a failure", r.skipped, r.failed)
	}
	t.Setenv("MC_E2E", "1")
	r = &recorder{TB: t}
	Require(r, E2E)
	if !testing.Short() && (r.failed != "" || r.skipped != "") {
		t.Errorf("with MC_E2E=1: skipped %q, failed %q", r.skipped, r.failed)
	}
	r = &recorder{TB: t}
	Require(r, Root)
	if (os.Geteuid() == 0) != (r.failed == "") {
		t.Errorf("root check as euid %d: failed %q", os.Geteuid(), r.failed)
	}
}
