// Package golden compares test output with files under testdata, and rewrites them when the
// tests run with -update.
package golden

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files with the current output")

// Assert fails t unless got equals testdata/<name>; with -update it writes got there instead.
func Assert(t testing.TB, got, name string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (create it with go test -update): %v", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (if the change is intended, run go test -update and review the diff):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}
