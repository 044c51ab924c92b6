package host

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestRecorderOverlay(t *testing.T) {
	base := t.TempDir()
	must(t, os.WriteFile(filepath.Join(base, "keep"), []byte("base"), 0o644))
	must(t, os.MkdirAll(filepath.Join(base, "old/sub"), 0o755))
	must(t, os.WriteFile(filepath.Join(base, "old/sub/f"), []byte("x"), 0o644))

	r := NewRecorder(System{})
	ctx := WithStep(context.Background(), "demo")
	must(t, r.MkdirAll(ctx, filepath.Join(base, "new/a"), 0o700))
	must(t, r.MkdirAll(ctx, filepath.Join(base, "new"), 0o700)) // exists now: no op
	must(t, r.WriteFile(ctx, filepath.Join(base, "new/a/cfg"), []byte("hello\n"), 0o600))
	must(t, r.RemoveAll(ctx, filepath.Join(base, "old")))
	must(t, r.RemoveAll(ctx, filepath.Join(base, "missing"))) // nothing to remove: no op

	if got, err := r.ReadFile(filepath.Join(base, "new/a/cfg")); err != nil || string(got) != "hello\n" {
		t.Errorf("recorded file reads %q, %v", got, err)
	}
	if got, err := r.ReadFile(filepath.Join(base, "keep")); err != nil || string(got) != "base" {
		t.Errorf("base file reads %q, %v", got, err)
	}
	if _, err := r.ReadFile(filepath.Join(base, "old/sub/f")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("file under a removed directory: %v, want not exist", err)
	}
	if e, _ := r.Exists(filepath.Join(base, "old/sub")); e {
		t.Error("removed directory still exists")
	}
	names, err := r.ReadDir(base)
	if err != nil || !reflect.DeepEqual(names, []string{"keep", "new"}) {
		t.Errorf("ReadDir(base) = %v, %v", names, err)
	}
	if _, err := os.Stat(filepath.Join(base, "new")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("the recorder changed the real file system")
	}
	if _, err := os.Stat(filepath.Join(base, "old/sub/f")); err != nil {
		t.Fatal("the recorder changed the real file system")
	}

	// Recreating a removed directory does not bring its old contents back.
	must(t, r.MkdirAll(ctx, filepath.Join(base, "old"), 0o755))
	if names, _ := r.ReadDir(filepath.Join(base, "old")); len(names) != 0 {
		t.Errorf("recreated directory lists %v", names)
	}

	var kinds []string
	for _, op := range r.Ops() {
		if op.Step != "demo" {
			t.Errorf("op %v not attributed to its step", op)
		}
		kinds = append(kinds, op.Kind+" "+strings.TrimPrefix(op.Path, base))
	}
	want := []string{"mkdir /new/a", "write /new/a/cfg", "remove /old", "mkdir /old"}
	if !reflect.DeepEqual(kinds, want) {
		t.Errorf("ops = %v, want %v", kinds, want)
	}
	if op := r.Ops()[1]; op.Content != "hello\n" || op.Mode != "0600" || op.Size != 6 || len(op.SHA256) != 64 {
		t.Errorf("write op = %+v", op)
	}
}

func TestRecorderRefusesWhatTheHostWould(t *testing.T) {
	r := NewRecorder(nothing{})
	ctx := context.Background()
	if err := r.WriteFile(ctx, "/data/file", nil, 0o600); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("write without parent: %v, want not exist", err)
	}
	must(t, r.MkdirAll(ctx, "/data", 0o700))
	must(t, r.WriteFile(ctx, "/data/file", []byte{0, 1, 2}, 0o600))
	if err := r.MkdirAll(ctx, "/data/file/sub", 0o700); err == nil {
		t.Error("mkdir through a file succeeded")
	}
	if _, err := r.ReadFile("/data"); err == nil {
		t.Error("reading a directory succeeded")
	}
	ops := r.Ops()
	if ops[1].Content != "" || ops[1].Size != 3 {
		t.Errorf("binary write op = %+v, want size only", ops[1])
	}
}

func TestRecorderSysctlAndCommands(t *testing.T) {
	r := NewRecorder(System{})
	ctx := context.Background()
	cur, err := System{}.Sysctl("net.ipv4.ip_forward")
	if err != nil {
		t.Fatal(err)
	}
	must(t, r.SetSysctl(ctx, "net.ipv4.ip_forward", cur)) // unchanged: no op
	other := map[string]string{"0": "1", "1": "0"}[cur]
	must(t, r.SetSysctl(ctx, "net.ipv4.ip_forward", other))
	if v, _ := r.Sysctl("net.ipv4.ip_forward"); v != other {
		t.Errorf("recorded sysctl reads %q, want %q", v, other)
	}
	if err := r.SetSysctl(ctx, "../../etc/passwd", "x"); err == nil {
		t.Error("a path-like sysctl key was accepted")
	}
	out, err := r.Run(ctx, Command{Name: "k0s", Args: []string{"reset", "--data-dir", "/var/lib/my dir"}, Env: []string{"A=b"}})
	if err != nil || out != nil {
		t.Errorf("Run = %q, %v", out, err)
	}
	must(t, r.Mount(ctx, "tmpfs", "/mnt/x", "tmpfs", "size=1m"))
	must(t, r.Unmount(ctx, "/mnt/x"))
	var lines []string
	for _, op := range r.Ops() {
		lines = append(lines, op.String())
	}
	want := []string{
		"sysctl net.ipv4.ip_forward=" + other,
		"run A=b k0s reset --data-dir '/var/lib/my dir'",
		"mount tmpfs (tmpfs, size=1m) on /mnt/x",
		"unmount /mnt/x",
	}
	if !reflect.DeepEqual(lines, want) {
		t.Errorf("ops:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestRecorderStreams(t *testing.T) {
	base := t.TempDir()
	must(t, os.WriteFile(filepath.Join(base, "big"), []byte("base contents"), 0o644))
	r := NewRecorder(System{})
	ctx := WithStep(context.Background(), "demo")

	f, err := r.Open(filepath.Join(base, "big"))
	must(t, err)
	data, _ := io.ReadAll(f)
	f.Close()
	if string(data) != "base contents" {
		t.Errorf("opened base file reads %q", data)
	}
	must(t, r.WriteFile(ctx, filepath.Join(base, "small"), []byte("recorded"), 0o600))
	f, err = r.Open(filepath.Join(base, "small"))
	must(t, err)
	if info, _ := f.Stat(); info.Size() != 8 {
		t.Errorf("recorded file's size %d", info.Size())
	}
	f.Close()

	image := filepath.Join(base, "image.tar")
	must(t, r.WriteStream(ctx, image, 0o644, func(w io.Writer) error {
		_, err := io.Copy(w, strings.NewReader(strings.Repeat("x", 1<<20)))
		return err
	}))
	ops := r.Ops()
	if last := ops[len(ops)-1]; last.Kind != "write" || last.Size != 1<<20 || last.SHA256 == "" || last.Content != "" {
		t.Errorf("streamed write recorded as %+v", last)
	}
	if _, err := r.ReadFile(image); err == nil || !strings.Contains(err.Error(), "contents were not recorded") {
		t.Errorf("reading a streamed file back: %v", err)
	}
	if _, err := os.Stat(image); !errors.Is(err, fs.ErrNotExist) {
		t.Error("the recorder wrote the real file")
	}

	failed := errors.New("source broke")
	if err := r.WriteStream(ctx, filepath.Join(base, "broken"), 0o644, func(io.Writer) error { return failed }); !errors.Is(err, failed) {
		t.Errorf("a failing stream: %v", err)
	}
	if e, _ := r.Exists(filepath.Join(base, "broken")); e || len(r.Ops()) != len(ops) {
		t.Error("a failed stream was recorded")
	}
	if err := r.WriteStream(ctx, filepath.Join(base, "no/such/dir/f"), 0o644, func(io.Writer) error { return nil }); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a stream into a missing directory: %v", err)
	}
}

// nothing is a host with nothing on it but its root.
type nothing struct{}

func (nothing) ReadFile(path string) ([]byte, error) {
	return nil, &fs.PathError{Op: "open", Path: path, Err: fs.ErrNotExist}
}
func (nothing) Exists(path string) (bool, error) { return path == "/", nil }
func (nothing) Open(path string) (fs.File, error) {
	return nil, &fs.PathError{Op: "open", Path: path, Err: fs.ErrNotExist}
}
func (nothing) ReadDir(string) ([]string, error)  { return nil, nil }
func (nothing) Sysctl(key string) (string, error) { return "", fs.ErrNotExist }
func (nothing) IPSets() ([]string, error)         { return nil, nil }
func (nothing) Readlink(path string) (string, error) {
	return "", &fs.PathError{Op: "readlink", Path: path, Err: fs.ErrNotExist}
}

// A recorded symlink reads as a link, and reading through it reads its target.
func TestRecorderSymlinks(t *testing.T) {
	r := NewRecorder(nothing{})
	ctx := context.Background()
	must(t, r.MkdirAll(ctx, "/data/bin", 0o755))
	must(t, r.WriteFile(ctx, "/data/bin/k0s", []byte("k0s"), 0o755))
	must(t, r.Symlink(ctx, "/data/bin/k0s", "/data/bin/kubectl"))
	must(t, r.Symlink(ctx, "k0s", "/data/bin/relative"))
	if target, err := r.Readlink("/data/bin/kubectl"); err != nil || target != "/data/bin/k0s" {
		t.Errorf("Readlink = %q, %v", target, err)
	}
	for _, p := range []string{"/data/bin/kubectl", "/data/bin/relative"} {
		if data, err := r.ReadFile(p); err != nil || string(data) != "k0s" {
			t.Errorf("ReadFile(%s) = %q, %v; want the target's contents", p, data, err)
		}
	}
	if _, err := r.Readlink("/data/bin/k0s"); err == nil {
		t.Error("Readlink of a file succeeded")
	}
	must(t, r.RemoveAll(ctx, "/data/bin/kubectl"))
	if _, err := r.Readlink("/data/bin/kubectl"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Readlink of a removed link: %v", err)
	}
}

func TestRecorderMkdirTemp(t *testing.T) {
	base := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(base, "bundle-1"), 0o755))
	r := NewRecorder(System{})
	ctx := context.Background()
	first, err := r.MkdirTemp(ctx, base, "bundle-")
	must(t, err)
	second, err := r.MkdirTemp(ctx, base, "bundle-*.d")
	must(t, err)
	if first != filepath.Join(base, "bundle-2") || second != filepath.Join(base, "bundle-1.d") {
		t.Errorf("MkdirTemp named %s and %s, want the first free numbered names", first, second)
	}
	if _, err := os.Stat(first); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("the recorder changed the real file system")
	}
	ops := r.Ops()
	if len(ops) != 2 || ops[0].Kind != "mkdir" || ops[0].Mode != "0700" {
		t.Errorf("recorded %+v, want two mkdirs with mode 0700", ops)
	}
}
