package host

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"
)

// Op is one change a Recorder recorded, in the form dry-run output and golden files show.
type Op struct {
	Step    string `json:"step,omitempty"`
	Kind    string `json:"op"` // mkdir, chmod, write, remove, run, sysctl, mount, unmount, symlink, start, signal
	Path    string `json:"path,omitempty"`
	Mode    string `json:"mode,omitempty"`
	Size    int    `json:"size,omitempty"`
	SHA256  string `json:"sha256,omitempty"`
	Content string `json:"content,omitempty"` // text files only; binary ones are known by size and digest
	// Redacted: the content holds a private key and is not recorded.
	Redacted bool   `json:"redacted,omitempty"`
	Command  string `json:"command,omitempty"`
	Value    string `json:"value,omitempty"` // sysctl value, or mount source, type and options
}

// String is the op as one line of a dry-run plan.
func (o Op) String() string {
	switch o.Kind {
	case "mkdir":
		return fmt.Sprintf("mkdir %s (%s)", o.Path, o.Mode)
	case "chmod":
		return fmt.Sprintf("chmod %s (%s)", o.Path, o.Mode)
	case "write":
		return fmt.Sprintf("write %s (%s, %d bytes)", o.Path, o.Mode, o.Size)
	case "run":
		return "run " + o.Command
	case "sysctl":
		return fmt.Sprintf("sysctl %s=%s", o.Path, o.Value)
	case "destroy-ipset":
		return "destroy IP set " + o.Path
	case "mount":
		return fmt.Sprintf("mount %s on %s", o.Value, o.Path)
	case "symlink":
		return fmt.Sprintf("symlink %s -> %s", o.Path, o.Value)
	case "start":
		return fmt.Sprintf("start %s (log %s)", o.Command, o.Path)
	case "signal":
		return fmt.Sprintf("signal %s to pid %s", o.Value, o.Path)
	default:
		return o.Kind + " " + o.Path
	}
}

type nodeKind int

const (
	removed nodeKind = iota
	file
	dir
	link
)

type node struct {
	kind  nodeKind
	data  []byte // a file's contents, or a link's target
	fresh bool   // a directory created by the recorder: base entries under it do not show
	// streamed: a file written by WriteStream, recorded by size and digest without its
	// contents (they may be gigabytes); reading it back is an error.
	streamed bool
}

// Recorder is a Host that changes nothing. It records every change as an Op and keeps an overlay
// of what it "changed", so that later reads in the same run see the host as a real install would
// have left it; everything else is read from its base. Like System, it records only real changes:
// creating an existing directory or removing a missing path is not an Op.
type Recorder struct {
	base   Reader
	mu     sync.Mutex
	ops    []Op
	nodes  map[string]node
	sysctl map[string]string
	// modes are the modes of directories the recorder made or changed, for Open's Stat.
	modes map[string]fs.FileMode
	// destroyedSets are the IP sets destroyed so far: gone from IPSets.
	destroyedSets map[string]bool
}

var _ Host = (*Recorder)(nil)

// NewRecorder returns a Recorder over base: System{} to plan against this machine.
func NewRecorder(base Reader) *Recorder {
	return &Recorder{base: base, nodes: map[string]node{}, sysctl: map[string]string{}, modes: map[string]fs.FileMode{}, destroyedSets: map[string]bool{}}
}

// Ops returns the changes recorded so far, in order.
func (r *Recorder) Ops() []Op {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.ops)
}

func (r *Recorder) record(ctx context.Context, op Op) {
	op.Step = StepOf(ctx)
	r.ops = append(r.ops, op)
}

// state returns the overlay's view of p: its own node, or removed when an ancestor was removed.
func (r *Recorder) state(p string) (node, bool) {
	if n, ok := r.nodes[p]; ok {
		return n, true
	}
	for a := filepath.Dir(p); ; a = filepath.Dir(a) {
		if n, ok := r.nodes[a]; ok {
			if n.kind == removed {
				return n, true
			}
			if n.fresh {
				return node{kind: removed}, true // nothing exists in a directory the recorder made
			}
		}
		if a == "/" || a == "." {
			return node{}, false
		}
	}
}

// ReadFile implements Reader.
func (r *Recorder) ReadFile(path string) ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := filepath.Clean(path)
	n, ok := r.state(p)
	switch {
	case !ok:
		return r.base.ReadFile(p)
	case n.kind == file && n.streamed:
		return nil, &fs.PathError{Op: "read", Path: p, Err: errStreamed}
	case n.kind == file:
		return slices.Clone(n.data), nil
	case n.kind == link:
		return r.readLinked(p, string(n.data))
	case n.kind == dir:
		return nil, &fs.PathError{Op: "read", Path: p, Err: errors.New("is a directory")}
	default:
		return nil, &fs.PathError{Op: "open", Path: p, Err: fs.ErrNotExist}
	}
}

var errStreamed = errors.New("written as a stream in this dry run: its contents were not recorded")

// readLinked reads what the link at p points at, as the kernel would follow it. The caller holds
// r.mu.
func (r *Recorder) readLinked(p, target string) ([]byte, error) {
	if !filepath.IsAbs(target) {
		target = filepath.Join(filepath.Dir(p), target)
	}
	r.mu.Unlock()
	defer r.mu.Lock()
	return r.ReadFile(target)
}

// Readlink implements Reader.
func (r *Recorder) Readlink(path string) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := filepath.Clean(path)
	n, ok := r.state(p)
	switch {
	case !ok:
		return r.base.Readlink(p)
	case n.kind == link:
		return string(n.data), nil
	case n.kind == removed:
		return "", &fs.PathError{Op: "readlink", Path: p, Err: fs.ErrNotExist}
	}
	return "", &fs.PathError{Op: "readlink", Path: p, Err: errors.New("not a symbolic link")}
}

// Open implements Reader.
func (r *Recorder) Open(path string) (fs.File, error) {
	r.mu.Lock()
	p := filepath.Clean(path)
	n, ok := r.state(p)
	perm, changed := r.modes[p]
	r.mu.Unlock()
	if changed && (!ok || n.kind == dir) {
		return memFile{Reader: bytes.NewReader(nil), name: filepath.Base(p), mode: fs.ModeDir | perm}, nil
	}
	if !ok {
		return r.base.Open(path)
	}
	data, err := r.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return memFile{Reader: bytes.NewReader(data), name: filepath.Base(path), mode: 0o644}, nil
}

// memFile is a recorded file, opened.
type memFile struct {
	*bytes.Reader
	name string
	mode fs.FileMode
}

func (f memFile) Stat() (fs.FileInfo, error) { return f, nil }
func (memFile) Close() error                 { return nil }
func (f memFile) Name() string               { return f.name }
func (f memFile) Size() int64                { return f.Reader.Size() }
func (f memFile) Mode() fs.FileMode          { return f.mode }
func (memFile) ModTime() time.Time           { return time.Time{} }
func (f memFile) IsDir() bool                { return f.mode.IsDir() }
func (memFile) Sys() any                     { return nil }

// Exists implements Reader.
func (r *Recorder) Exists(path string) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.exists(filepath.Clean(path))
}

func (r *Recorder) exists(p string) (bool, error) {
	if n, ok := r.state(p); ok {
		return n.kind != removed, nil
	}
	return r.base.Exists(p)
}

// ReadDir implements Reader.
func (r *Recorder) ReadDir(path string) ([]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := filepath.Clean(path)
	n, ok := r.state(p)
	if ok && n.kind != dir {
		return nil, &fs.PathError{Op: "open", Path: p, Err: fs.ErrNotExist}
	}
	var names []string
	if !ok || !n.fresh {
		base, err := r.base.ReadDir(p)
		if err != nil && !ok {
			return nil, err
		}
		for _, name := range base {
			if e, err := r.exists(filepath.Join(p, name)); err == nil && e {
				names = append(names, name)
			}
		}
	}
	for q, child := range r.nodes {
		if filepath.Dir(q) == p && q != p && child.kind != removed {
			names = append(names, filepath.Base(q))
		}
	}
	slices.Sort(names)
	return slices.Compact(names), nil
}

// Sysctl implements Reader.
func (r *Recorder) Sysctl(key string) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if v, ok := r.sysctl[key]; ok {
		return v, nil
	}
	return r.base.Sysctl(key)
}

// IPSets implements Reader: the base's, less those destroyed.
func (r *Recorder) IPSets() ([]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	sets, err := r.base.IPSets()
	return slices.DeleteFunc(sets, func(s string) bool { return r.destroyedSets[s] }), err
}

// DestroyIPSet implements Host.
func (r *Recorder) DestroyIPSet(ctx context.Context, name string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.destroyedSets[name] = true
	r.record(ctx, Op{Kind: "destroy-ipset", Path: name})
	return nil
}

// MkdirAll implements Host.
func (r *Recorder) MkdirAll(ctx context.Context, path string, perm fs.FileMode) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := filepath.Clean(path)
	var missing []string
	for a := p; ; a = filepath.Dir(a) {
		e, err := r.exists(a)
		if err != nil {
			return fmt.Errorf("create directory %s: %w", p, err)
		}
		if e {
			if n, ok := r.state(a); ok && n.kind == file {
				return fmt.Errorf("create directory %s: %s is a file", p, a)
			}
			break
		}
		missing = append(missing, a)
		if a == "/" || a == "." {
			break
		}
	}
	if len(missing) == 0 {
		return nil
	}
	for _, a := range missing {
		r.nodes[a] = node{kind: dir, fresh: true}
		r.modes[a] = perm
	}
	r.record(ctx, Op{Kind: "mkdir", Path: p, Mode: mode(perm)})
	return nil
}

// Chmod implements Host: it records a change of mode; a directory's same mode again is none.
func (r *Recorder) Chmod(ctx context.Context, path string, perm fs.FileMode) error {
	p := filepath.Clean(path)
	info, err := Stat(r, p)
	if err != nil {
		return fmt.Errorf("change the mode of %s: %w", p, err)
	}
	if info.Mode().Perm() == perm {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if info.IsDir() { // a recorded file's mode is not kept: Open reports 0644
		r.modes[p] = perm
	}
	r.record(ctx, Op{Kind: "chmod", Path: p, Mode: mode(perm)})
	return nil
}

// MkdirTemp implements Host. Names are numbered instead of random, so that a plan reads the same
// on every run: the first free one of pattern with 1, 2, ... in place of its last "*" (or at its end).
func (r *Recorder) MkdirTemp(ctx context.Context, dir, pattern string) (string, error) {
	if dir == "" {
		dir = os.TempDir()
	}
	prefix, suffix := pattern, ""
	if i := strings.LastIndex(pattern, "*"); i >= 0 {
		prefix, suffix = pattern[:i], pattern[i+1:]
	}
	for n := 1; ; n++ {
		p := filepath.Join(dir, prefix+strconv.Itoa(n)+suffix)
		r.mu.Lock()
		e, err := r.exists(p)
		r.mu.Unlock()
		if err != nil {
			return "", fmt.Errorf("create a temporary directory in %q: %w", dir, err)
		}
		if !e {
			return p, r.MkdirAll(ctx, p, 0o700)
		}
	}
}

// WriteFile implements Host.
func (r *Recorder) WriteFile(ctx context.Context, path string, data []byte, perm fs.FileMode) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := filepath.Clean(path)
	if e, err := r.exists(filepath.Dir(p)); err != nil || !e {
		return fmt.Errorf("write %s: %w", p, &fs.PathError{Op: "open", Path: p, Err: fs.ErrNotExist})
	}
	r.nodes[p] = node{kind: file, data: slices.Clone(data)}
	sum := sha256.Sum256(data)
	op := Op{Kind: "write", Path: p, Mode: mode(perm), Size: len(data), SHA256: hex.EncodeToString(sum[:])}
	switch {
	case bytes.Contains(data, []byte("PRIVATE KEY")):
		op.Redacted = true // plans and logs must not carry keys
	case utf8.Valid(data) && !bytes.ContainsRune(data, 0):
		op.Content = string(data)
	}
	r.record(ctx, op)
	return nil
}

// WriteStream implements Host: it drains write, recording the file's size and digest.
func (r *Recorder) WriteStream(ctx context.Context, path string, perm fs.FileMode, write func(io.Writer) error) error {
	p := filepath.Clean(path)
	r.mu.Lock()
	parent, err := r.exists(filepath.Dir(p))
	r.mu.Unlock()
	if err != nil || !parent {
		return fmt.Errorf("write %s: %w", p, &fs.PathError{Op: "open", Path: p, Err: fs.ErrNotExist})
	}
	h := sha256.New()
	counted := &countingWriter{w: h}
	if err := write(counted); err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.nodes[p] = node{kind: file, streamed: true}
	r.record(ctx, Op{Kind: "write", Path: p, Mode: mode(perm), Size: int(counted.n), SHA256: hex.EncodeToString(h.Sum(nil))})
	return nil
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// RemoveAll implements Host.
func (r *Recorder) RemoveAll(ctx context.Context, path string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := filepath.Clean(path)
	if e, err := r.exists(p); err != nil || !e {
		return err
	}
	for q := range r.nodes {
		if strings.HasPrefix(q, p+"/") {
			delete(r.nodes, q)
		}
	}
	r.nodes[p] = node{kind: removed}
	r.record(ctx, Op{Kind: "remove", Path: p})
	return nil
}

// Run implements Host. Nothing runs, and the output is empty. A command's input is recorded as
// the op's content.
func (r *Recorder) Run(ctx context.Context, cmd Command) ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.record(ctx, Op{Kind: "run", Command: cmd.String(), Content: string(cmd.Stdin)})
	return nil, nil
}

// SetSysctl implements Host.
func (r *Recorder) SetSysctl(ctx context.Context, key, value string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, err := sysctlPath(key); err != nil {
		return err
	}
	cur, known := r.sysctl[key]
	if !known {
		v, err := r.base.Sysctl(key)
		cur, known = v, err == nil
	}
	if known && cur == value {
		return nil
	}
	r.sysctl[key] = value
	r.record(ctx, Op{Kind: "sysctl", Path: key, Value: value})
	return nil
}

// Mount implements Host.
func (r *Recorder) Mount(ctx context.Context, source, target, fstype, options string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	what := source + " (" + fstype
	if options != "" {
		what += ", " + options
	}
	r.record(ctx, Op{Kind: "mount", Path: filepath.Clean(target), Value: what + ")"})
	return nil
}

// Unmount implements Host.
func (r *Recorder) Unmount(ctx context.Context, target string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.record(ctx, Op{Kind: "unmount", Path: filepath.Clean(target)})
	return nil
}

// Symlink implements Host.
func (r *Recorder) Symlink(ctx context.Context, target, path string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := filepath.Clean(path)
	if e, err := r.exists(filepath.Dir(p)); err != nil || !e {
		return fmt.Errorf("link %s: %w", p, &fs.PathError{Op: "symlink", Path: p, Err: fs.ErrNotExist})
	}
	r.nodes[p] = node{kind: link, data: []byte(target)}
	r.record(ctx, Op{Kind: "symlink", Path: p, Value: target})
	return nil
}

// Start implements Host. Nothing starts; the PID is 0.
func (r *Recorder) Start(ctx context.Context, cmd Command, logFile string) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.record(ctx, Op{Kind: "start", Command: cmd.String(), Path: filepath.Clean(logFile)})
	return 0, nil
}

// Signal implements Host. A terminating signal makes the process gone from the overlay's /proc,
// as it would be once it exits.
func (r *Recorder) Signal(ctx context.Context, pid int, sig syscall.Signal) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if sig == syscall.SIGTERM || sig == syscall.SIGKILL || sig == syscall.SIGINT {
		r.nodes["/proc/"+strconv.Itoa(max(pid, -pid))] = node{kind: removed}
	}
	r.record(ctx, Op{Kind: "signal", Path: strconv.Itoa(pid), Value: sig.String()})
	return nil
}

func mode(perm fs.FileMode) string { return fmt.Sprintf("%04o", perm.Perm()) }
