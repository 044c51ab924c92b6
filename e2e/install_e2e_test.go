//go:build e2e

// Package e2e runs the real mission-control binary as root on this machine, exactly as a user
// would, and checks what it does to the host.
package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/datastax/mission-control/internal/testenv"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "mc-e2e-bin-")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "mission-control")
	build := exec.Command("go", "build", "-o", binary, "../cmd/mission-control")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		panic("build mission-control: " + err.Error())
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	code           int
	stdout, stderr string
}

func mc(t *testing.T, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr, cmd.Stdin = &out, &errOut, strings.NewReader("")
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %v: %v", args, err)
	}
	return result{code: code, stdout: out.String(), stderr: errOut.String()}
}

const license = "../examples/license.yaml"

// TestInstallStatusReset is the whole lifecycle of what install does today, for real: the data
// dir and the runtime configuration appear, status reports them, reset removes every trace.
func TestInstallStatusReset(t *testing.T) {
	testenv.Require(t, testenv.E2E, testenv.Root)
	dataDir := filepath.Join(t.TempDir(), "mission-control")

	if r := mc(t, "install", "--license", license, "--data-dir", dataDir, "--dry-run"); r.code != 0 || !strings.Contains(r.stdout, "Dry run: nothing was changed") {
		t.Fatalf("dry run: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(dataDir); !os.IsNotExist(err) {
		t.Fatal("the dry run created the data dir")
	}
	// Without --yes and without a terminal, install refuses before any change.
	if r := mc(t, "install", "--license", license, "--data-dir", dataDir); r.code != 1 || !strings.Contains(r.stderr, "pass --yes") {
		t.Fatalf("unconfirmed install: exit %d\n%s", r.code, r.stderr)
	}
	if _, err := os.Stat(dataDir); !os.IsNotExist(err) {
		t.Fatal("an unconfirmed install created the data dir")
	}

	r := mc(t, "install", "--license", license, "--data-dir", dataDir, "--yes")
	if r.code != 0 {
		if strings.Contains(r.stderr, "host-preflights") {
			t.Fatalf("this host fails the preflights, so the lifecycle cannot run here:\n%s", r.stderr)
		}
		t.Fatalf("install: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	k0s, err := os.ReadFile(filepath.Join(dataDir, "etc", "k0s.yaml"))
	if err != nil || !strings.Contains(string(k0s), "podCIDR: 10.244.0.0/17") {
		t.Fatalf("runtime config: %v\n%s", err, k0s)
	}
	if r := mc(t, "status", "--data-dir", dataDir); r.code != 0 || !strings.Contains(r.stdout, "complete") {
		t.Fatalf("status: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := mc(t, "reset", "--data-dir", dataDir, "--yes"); r.code != 0 {
		t.Fatalf("reset: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(dataDir); !os.IsNotExist(err) {
		t.Fatal("reset left the data dir")
	}
	if r := mc(t, "status", "--data-dir", dataDir); r.code != 3 {
		t.Fatalf("status after reset: exit %d\n%s", r.code, r.stdout)
	}
}

// TestBadInputChangesNothing runs the real binary without --dry-run on inputs that must be refused.
func TestBadInputChangesNothing(t *testing.T) {
	testenv.Require(t, testenv.E2E, testenv.Root)
	for _, args := range [][]string{
		{"--cidr", "10.0.0.1/16"},
		{"--cidr", "8.8.8.0/16"},
		{"--mode", "observer"},
		{"--license", "/etc/hostname"},
		{"--license", "/nonexistent"},
		{"--data-dir", "/etc"},
	} {
		dataDir := filepath.Join(t.TempDir(), "mission-control")
		full := append([]string{"install", "--license", license, "--data-dir", dataDir, "--yes"}, args...)
		r := mc(t, full...)
		lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
		if r.code == 0 || !strings.HasPrefix(lines[len(lines)-1], "Error: ") || strings.Count(r.stderr, "Error: ") != 1 {
			t.Errorf("%v: exit %d\n%s", args, r.code, r.stderr)
		}
		if _, err := os.Stat(dataDir); !os.IsNotExist(err) {
			t.Errorf("%v created the data dir", args)
		}
	}
}
