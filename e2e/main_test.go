//go:build e2e

// Package e2e runs the real mission-control binary as root on this machine, exactly as a user
// would, and checks what it does to the host. make test builds the binary (with the runtime
// payload) and passes it as MC_BINARY.
package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/datastax/mission-control/internal/testhost"
)

const (
	license = "../examples/license.yaml"
	dataDir = "/var/lib/mission-control" // the default: the tests install as a user would
)

// binary is the mission-control under test.
func binary(t testing.TB) string {
	t.Helper()
	b := os.Getenv("MC_BINARY")
	if b == "" {
		t.Fatal("MC_BINARY is not set: run the end-to-end tests with make test (it builds bin/mission-control with the runtime payload)")
	}
	if _, err := os.Stat(b); err != nil {
		t.Fatalf("MC_BINARY: %v (run make build)", err)
	}
	abs, _ := filepath.Abs(b)
	return abs
}

// netns is the network namespace mission-control runs in, as a path (/proc/PID/ns/net): "" for
// this host's, or the isolated one an air-gapped test makes (its node address is reachable from
// inside only).
var netns string

// mcCommand is mission-control with args, in netns.
func mcCommand(t testing.TB, ctx context.Context, args ...string) *exec.Cmd {
	name, args := testhost.InNetns(netns, binary(t), args...)
	return exec.CommandContext(ctx, name, args...)
}

type result struct {
	code           int
	stdout, stderr string
	took           time.Duration
}

func (r result) String() string {
	return "exit " + strconv.Itoa(r.code) + "\n--- stdout\n" + r.stdout + "--- stderr\n" + r.stderr
}

// mc runs the binary and waits for it, for at most ten minutes.
func mc(t testing.TB, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := mcCommand(t, ctx, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr, cmd.Stdin = &out, &errOut, strings.NewReader("")
	start := time.Now()
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errOut.String(), took: time.Since(start)}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run mission-control %v: %v", args, err)
	}
	return r
}

// startMC starts the binary without waiting for it.
func startMC(t testing.TB, args ...string) *exec.Cmd {
	t.Helper()
	cmd := mcCommand(t, within(t, 15*time.Minute), args...)
	cmd.Stdin = strings.NewReader("")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd
}

// kill ends a process this test started, by its PID.
func kill(t testing.TB, cmd *exec.Cmd) {
	t.Helper()
	if err := syscall.Kill(cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
}

// within is a context that ends after d, or with the test: every command and API call of the tests
// is bounded, so that a hang fails the test naming the call instead of holding the run.
func within(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// recordHolder notes a process the tests started that outlives them, in the file MC_E2E_HOLDERS
// names, so that after a run that timed out or panicked (no t.Cleanup runs then)
// hack/e2e-cleanup.sh can end it by its PID.
func recordHolder(t testing.TB, pid int) {
	t.Helper()
	path := os.Getenv("MC_E2E_HOLDERS")
	if path == "" {
		return
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatalf("record the holder %d: %v", pid, err)
	}
	defer f.Close()
	if _, err := fmt.Fprintln(f, pid); err != nil {
		t.Fatalf("record the holder %d: %v", pid, err)
	}
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}
