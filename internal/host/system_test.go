package host

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/datastax/mission-control/internal/testenv"
)

func TestSystemFiles(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	h := System{}
	p := filepath.Join(dir, "a/b/c.yaml")
	must(t, h.MkdirAll(ctx, filepath.Dir(p), 0o700))
	must(t, h.WriteFile(ctx, p, []byte("one"), 0o600))
	must(t, h.WriteFile(ctx, p, []byte("two"), 0o640)) // replaces, takes the new mode
	got, err := h.ReadFile(p)
	if err != nil || string(got) != "two" {
		t.Fatalf("ReadFile = %q, %v", got, err)
	}
	fi, err := os.Stat(p)
	if err != nil || fi.Mode().Perm() != 0o640 {
		t.Fatalf("mode = %v, %v", fi.Mode(), err)
	}
	names, err := h.ReadDir(filepath.Dir(p))
	if err != nil || len(names) != 1 || names[0] != "c.yaml" {
		t.Fatalf("ReadDir = %v, %v (a temporary file left behind?)", names, err)
	}
	if err := h.WriteFile(ctx, filepath.Join(dir, "missing/x"), nil, 0o600); err == nil {
		t.Fatal("write without a parent directory succeeded")
	}
	must(t, h.RemoveAll(ctx, filepath.Join(dir, "a")))
	must(t, h.RemoveAll(ctx, filepath.Join(dir, "a"))) // already gone
	if e, err := h.Exists(p); e || err != nil {
		t.Fatalf("Exists after RemoveAll = %v, %v", e, err)
	}
}

func TestSystemRun(t *testing.T) {
	ctx := context.Background()
	out, err := System{}.Run(ctx, Command{Name: "sh", Args: []string{"-c", "echo $GREETING"}, Env: []string{"GREETING=hi"}})
	if err != nil || string(out) != "hi\n" {
		t.Fatalf("Run = %q, %v", out, err)
	}
	_, err = System{}.Run(ctx, Command{Name: "sh", Args: []string{"-c", "echo working; echo 'no such thing' >&2; exit 3"}})
	var ee *ExecError
	if !errors.As(err, &ee) {
		t.Fatalf("error %v is not an *ExecError", err)
	}
	if want := "run sh -c 'echo working; echo '\\''no such thing'\\'' >&2; exit 3': exit status 3: no such thing"; err.Error() != want {
		t.Errorf("error = %q\nwant    %q", err, want)
	}
	if _, err := (System{}).Run(ctx, Command{Name: "/nonexistent/tool"}); !errors.As(err, &ee) {
		t.Errorf("missing program: %v", err)
	}
}

func TestSystemSysctlAndMount(t *testing.T) {
	testenv.Require(t, testenv.Root)
	ctx := context.Background()
	h := System{}
	cur, err := h.Sysctl("net.ipv4.conf.lo.log_martians")
	if err != nil {
		t.Fatal(err)
	}
	must(t, h.SetSysctl(ctx, "net.ipv4.conf.lo.log_martians", cur)) // the same value: exercises the write, changes nothing
	if _, err := h.Sysctl("no.such.key"); err == nil {
		t.Error("reading a missing sysctl succeeded")
	}

	target := t.TempDir()
	must(t, h.Mount(ctx, "mc-test", target, "tmpfs", "nosuid,nodev,size=1m"))
	t.Cleanup(func() { _ = h.Unmount(ctx, target) })
	if mounted, err := isMountPoint(target); err != nil || !mounted {
		t.Fatalf("not mounted after Mount: %v", err)
	}
	must(t, h.WriteFile(ctx, filepath.Join(target, "f"), []byte("x"), 0o600))
	must(t, h.Unmount(ctx, target))
	must(t, h.Unmount(ctx, target)) // not mounted any more: no error
	if e, _ := h.Exists(filepath.Join(target, "f")); e {
		t.Error("the file written on the tmpfs is still visible after unmount")
	}
}

func TestCommandString(t *testing.T) {
	c := Command{Name: "k0s", Args: []string{"--flag=a,b", "", "it's"}}
	if got, want := c.String(), `k0s --flag=a,b '' 'it'\''s'`; got != want {
		t.Errorf("String() = %s, want %s", got, want)
	}
	if !strings.Contains((&ExecError{Cmd: "x", Err: errors.New("boom"), Output: []byte("a\n\nlast\n\n")}).Error(), "boom: last") {
		t.Error("ExecError does not end with the output's last line")
	}
}

func TestSystemStartSignalSymlink(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	h := System{}
	log := filepath.Join(dir, "out.log")
	pid, err := h.Start(ctx, Command{Name: "sh", Args: []string{"-c", "echo started $GREETING; exec sleep 60"}, Env: []string{"GREETING=hi"}}, log)
	if err != nil {
		t.Fatal(err)
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	// Fields after the command: state, ppid, pgrp, session. A started process leads its session.
	fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+2:]))
	if fields[3] != strconv.Itoa(pid) {
		t.Errorf("session %s, want its own (%d)", fields[3], pid)
	}
	for i := 0; i < 250; i++ { // let it write before it is stopped
		if out, _ := os.ReadFile(log); len(out) > 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	must(t, h.Signal(ctx, pid, syscall.SIGTERM))
	for i := 0; i < 100; i++ {
		if s, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err != nil || strings.Contains(string(s), ") Z ") {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if out, _ := os.ReadFile(log); string(out) != "started hi\n" {
		t.Errorf("log = %q", out)
	}
	must(t, h.Signal(ctx, 999999999, syscall.SIGTERM)) // gone: not an error
	for _, bad := range []int{0, 1, -1} {
		if err := h.Signal(ctx, bad, syscall.SIGTERM); err == nil {
			t.Errorf("signal to %d accepted", bad)
		}
	}

	link := filepath.Join(dir, "kubectl")
	must(t, h.Symlink(ctx, "/bin/true", link))
	must(t, h.Symlink(ctx, "/bin/false", link)) // replaces
	if target, err := os.Readlink(link); err != nil || target != "/bin/false" {
		t.Errorf("link -> %q, %v", target, err)
	}
}

func TestMergeEnv(t *testing.T) {
	got := mergeEnv([]string{"PATH=/usr/bin", "HOME=/root", "A=1"}, []string{"PATH=/data/bin:/usr/bin", "KUBECONFIG=/data/kubeconfig"})
	want := []string{"HOME=/root", "A=1", "PATH=/data/bin:/usr/bin", "KUBECONFIG=/data/kubeconfig"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("mergeEnv = %v", got)
	}
}

// mission-control shell -- kubectl: kubectl is found on the PATH the command runs with (the data
// dir's bin first), not only on the caller's.
func TestLookPathUsesTheCommandsPath(t *testing.T) {
	bin := t.TempDir()
	kubectl := filepath.Join(bin, "kubectl")
	if err := os.WriteFile(kubectl, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", "/nonexistent")
	env := mergeEnv(os.Environ(), []string{"PATH=" + bin + ":/usr/bin"})
	if got, err := lookPath("kubectl", env); err != nil || got != kubectl {
		t.Errorf("lookPath(kubectl) = %q, %v; want %s", got, err, kubectl)
	}
	if _, err := lookPath("no-such-tool", env); !errors.Is(err, exec.ErrNotFound) {
		t.Errorf("a missing command: %v", err)
	}
	if got, err := lookPath("/bin/sh", env); err != nil || got != "/bin/sh" {
		t.Errorf("an absolute path: %q, %v", got, err)
	}
}

func TestSystemMkdirTempIsPrivate(t *testing.T) {
	dir, err := System{}.MkdirTemp(context.Background(), t.TempDir(), "private-")
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(dir)
	if err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 {
		t.Fatalf("MkdirTemp made %s: %v, %v; want a directory with mode 0700", dir, fi, err)
	}
}
