package host

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/vishvananda/netlink"
)

// System is the real host. It is the only code in mission-control that changes the machine
// (a test enforces that).
type System struct{}

var _ Host = System{}

// ReadFile implements Reader.
func (System) ReadFile(path string) ([]byte, error) { return os.ReadFile(path) }

// Exists implements Reader.
func (System) Exists(path string) (bool, error) {
	_, err := os.Lstat(path)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	default:
		return false, err
	}
}

// ReadDir implements Reader.
func (System) ReadDir(path string) ([]string, error) {
	entries, err := os.ReadDir(path)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name()
	}
	return names, nil
}

// Readlink implements Reader.
func (System) Readlink(path string) (string, error) { return os.Readlink(path) }

func sysctlPath(key string) (string, error) {
	if key == "" || strings.ContainsAny(key, "/ ") || strings.Contains(key, "..") {
		return "", fmt.Errorf("invalid sysctl key %q", key)
	}
	return "/proc/sys/" + strings.ReplaceAll(key, ".", "/"), nil
}

// Sysctl implements Reader.
func (System) Sysctl(key string) (string, error) {
	p, err := sysctlPath(key)
	if err != nil {
		return "", err
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return "", fmt.Errorf("read sysctl %s: %w", key, err)
	}
	return strings.TrimSpace(string(b)), nil
}

// MkdirAll implements Host.
func (System) MkdirAll(_ context.Context, path string, perm fs.FileMode) error {
	if err := os.MkdirAll(path, perm); err != nil {
		return fmt.Errorf("create directory %s: %w", path, err)
	}
	return nil
}

// Chmod implements Host.
func (System) Chmod(_ context.Context, path string, perm fs.FileMode) error {
	if err := os.Chmod(path, perm); err != nil {
		return fmt.Errorf("change the mode of %s: %w", path, err)
	}
	return nil
}

// MkdirTemp implements Host.
func (System) MkdirTemp(_ context.Context, dir, pattern string) (string, error) {
	path, err := os.MkdirTemp(dir, pattern)
	if err != nil {
		return "", fmt.Errorf("create a temporary directory in %q: %w", dir, err)
	}
	return path, nil
}

// WriteFile implements Host: a temporary file in the same directory, synced, then renamed over
// path, so a crash leaves either the old or the new file.
func (s System) WriteFile(ctx context.Context, path string, data []byte, perm fs.FileMode) error {
	return s.WriteStream(ctx, path, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// Open implements Reader.
func (System) Open(path string) (fs.File, error) { return os.Open(path) }

// WriteStream implements Host.
func (System) WriteStream(_ context.Context, path string, perm fs.FileMode, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	err = write(tmp)
	if err == nil {
		err = tmp.Chmod(perm)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// RemoveAll implements Host.
func (System) RemoveAll(_ context.Context, path string) error {
	if err := os.RemoveAll(path); err != nil {
		return fmt.Errorf("remove %s: %w", path, err)
	}
	return nil
}

// Run implements Host.
func (System) Run(ctx context.Context, c Command) ([]byte, error) {
	cmd := exec.CommandContext(ctx, c.Name, c.Args...)
	// A child the command leaves behind can hold its output open: once ctx ends, Run waits that
	// long for it, not for ever.
	cmd.WaitDelay = runWaitDelay
	if len(c.Env) > 0 {
		cmd.Env = append(os.Environ(), c.Env...)
	}
	if c.Stdin != nil {
		cmd.Stdin = bytes.NewReader(c.Stdin)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return out, &ExecError{Cmd: c.String(), Output: out, Err: err}
	}
	return out, nil
}

const runWaitDelay = 5 * time.Second

// SetSysctl implements Host.
func (System) SetSysctl(_ context.Context, key, value string) error {
	p, err := sysctlPath(key)
	if err != nil {
		return err
	}
	if err := os.WriteFile(p, []byte(value), 0o644); err != nil {
		return fmt.Errorf("set sysctl %s=%s: %w", key, value, err)
	}
	return nil
}

// mountFlags maps the options mount(8) turns into flags; the rest is passed as filesystem data.
var mountFlags = map[string]uintptr{
	"ro": syscall.MS_RDONLY, "nosuid": syscall.MS_NOSUID, "nodev": syscall.MS_NODEV,
	"noexec": syscall.MS_NOEXEC, "bind": syscall.MS_BIND, "rbind": syscall.MS_BIND | syscall.MS_REC,
	"private": syscall.MS_PRIVATE, "rprivate": syscall.MS_PRIVATE | syscall.MS_REC, "shared": syscall.MS_SHARED,
}

// Mount implements Host.
func (System) Mount(_ context.Context, source, target, fstype, options string) error {
	var flags uintptr
	var data []string
	for o := range strings.SplitSeq(options, ",") {
		if f, ok := mountFlags[o]; ok {
			flags |= f
		} else if o != "" {
			data = append(data, o)
		}
	}
	if err := syscall.Mount(source, target, fstype, flags, strings.Join(data, ",")); err != nil {
		return fmt.Errorf("mount %s on %s: %w", source, target, err)
	}
	return nil
}

// Unmount implements Host.
func (System) Unmount(_ context.Context, target string) error {
	mounted, err := isMountPoint(target)
	if err != nil || !mounted {
		return err
	}
	if err := syscall.Unmount(target, 0); err != nil {
		return fmt.Errorf("unmount %s: %w", target, err)
	}
	return nil
}

// isMountPoint looks target up in this process's mount table.
func isMountPoint(target string) (bool, error) {
	mounts, err := MountTable(System{})
	if err != nil {
		return false, fmt.Errorf("read mount table: %w", err)
	}
	clean := filepath.Clean(target)
	return slices.ContainsFunc(mounts, func(m Mount) bool { return m.Point == clean }), nil
}

// Symlink implements Host.
func (System) Symlink(_ context.Context, target, link string) error {
	if err := os.Remove(link); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("replace %s: %w", link, err)
	}
	if err := os.Symlink(target, link); err != nil {
		return fmt.Errorf("link %s to %s: %w", link, target, err)
	}
	return nil
}

// Start implements Host.
func (System) Start(_ context.Context, c Command, logFile string) (int, error) {
	log, err := os.OpenFile(logFile, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return 0, fmt.Errorf("open log %s: %w", logFile, err)
	}
	defer log.Close()
	// Not CommandContext: the process must outlive the command that started it.
	cmd := exec.Command(c.Name, c.Args...)
	cmd.Env = append(os.Environ(), c.Env...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return 0, &ExecError{Cmd: c.String(), Err: err}
	}
	pid := cmd.Process.Pid
	return pid, cmd.Process.Release()
}

// IPSets implements Reader.
func (System) IPSets() ([]string, error) {
	// netlink logs each attribute of a newer kernel's sets it cannot parse through the standard
	// logger; the names it needs are parsed all the same.
	prev := log.Writer()
	log.SetOutput(io.Discard)
	sets, err := netlink.IpsetListAll()
	log.SetOutput(prev)
	if err != nil {
		return nil, fmt.Errorf("list IP sets: %w", err)
	}
	names := make([]string, 0, len(sets))
	for _, s := range sets {
		names = append(names, s.SetName)
	}
	slices.Sort(names)
	return names, nil
}

// DestroyIPSet implements Host.
func (System) DestroyIPSet(_ context.Context, name string) error {
	if err := netlink.IpsetDestroy(name); err != nil && !errors.Is(err, syscall.ENOENT) {
		return fmt.Errorf("destroy IP set %s: %w", name, err)
	}
	return nil
}

// Signal implements Host. A negative pid signals that process group.
func (System) Signal(_ context.Context, pid int, sig syscall.Signal) error {
	if pid == 0 || pid == 1 || pid == -1 { // this process group, init, every process
		return fmt.Errorf("refusing to signal pid %d", pid)
	}
	if err := syscall.Kill(pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("signal %s to pid %d: %w", sig, pid, err)
	}
	return nil
}

// Exec replaces this process with cmd, as a shell's exec does: for commands that hand the
// terminal to another program. The command is looked up on the PATH it runs with (cmd.Env's, if
// it sets one). It returns only on failure.
func Exec(c Command) error {
	env := mergeEnv(os.Environ(), c.Env)
	path, err := lookPath(c.Name, env)
	if err != nil {
		return &ExecError{Cmd: c.String(), Err: err}
	}
	if err := syscall.Exec(path, append([]string{c.Name}, c.Args...), env); err != nil {
		return &ExecError{Cmd: c.String(), Err: err}
	}
	return nil
}

// lookPath finds the executable name on the PATH of env, as the shell running env would.
func lookPath(name string, env []string) (string, error) {
	if strings.Contains(name, "/") {
		return exec.LookPath(name)
	}
	var path string
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			path = v
		}
	}
	for _, dir := range filepath.SplitList(path) {
		candidate := filepath.Join(cmp.Or(dir, "."), name)
		if info, err := os.Stat(candidate); err == nil && !info.IsDir() && info.Mode()&0o111 != 0 {
			return candidate, nil
		}
	}
	return "", fmt.Errorf("%s: %w in $PATH (%s)", name, exec.ErrNotFound, path)
}

// mergeEnv overrides base's variables with extra's; programs read the first of duplicates.
func mergeEnv(base, extra []string) []string {
	out := make([]string, 0, len(base)+len(extra))
	overridden := map[string]bool{}
	for _, kv := range extra {
		k, _, _ := strings.Cut(kv, "=")
		overridden[k] = true
	}
	for _, kv := range base {
		if k, _, _ := strings.Cut(kv, "="); !overridden[k] {
			out = append(out, kv)
		}
	}
	return append(out, extra...)
}
