// Package host is the seam between mission-control and the machine it changes. Every change to
// the host goes through a Host: System makes it for real, Recorder only records it, so that a dry
// run and the unit tests see exactly the actions a real install would take (a test enforces that
// nothing else changes the host). The reads a plan depends on go through its Reader, so that a
// dry run sees what earlier steps would have written. Live facts that only the host preflights
// judge (free space, sockets and their processes, the clock) and the network's routes are read
// directly by packages preflight and network: no dry run records them.
package host

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"syscall"
)

// Reader is the read-only part of a Host. Reads never change the host.
type Reader interface {
	// ReadFile returns the contents of the file at path.
	ReadFile(path string) ([]byte, error)
	// Exists reports whether path exists; a dangling symlink exists.
	Exists(path string) (bool, error)
	// Open opens the file at path to stream contents too large to read whole (bundles, images).
	Open(path string) (fs.File, error)
	// ReadDir returns the names of a directory's entries, sorted.
	ReadDir(path string) ([]string, error)
	// Readlink returns the target of the symbolic link at path.
	Readlink(path string) (string, error)
	// Sysctl returns the value of a kernel parameter, e.g. "net.ipv4.ip_forward".
	Sysctl(key string) (string, error)
	// IPSets returns the names of the kernel's IP sets (the pod network's NetworkPolicy keeps
	// its selections there).
	IPSets() ([]string, error)
}

// Stat describes the file or directory at path, read through r.
func Stat(r Reader, path string) (fs.FileInfo, error) {
	f, err := r.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Stat()
}

// Host reads and changes the machine. Every change takes the step's context, so that a Recorder
// can attribute it (see WithStep) and long commands can be cancelled. All changes are idempotent
// where the operation allows it: repeating one leaves the host as the first call did.
type Host interface {
	Reader
	// MkdirAll creates path and missing parents with perm; existing directories are left as they are.
	MkdirAll(ctx context.Context, path string, perm fs.FileMode) error
	// Chmod sets the mode of the file or directory at path.
	Chmod(ctx context.Context, path string, perm fs.FileMode) error
	// MkdirTemp creates a new directory in dir (the system's temporary directory when empty)
	// with a name made from pattern as os.MkdirTemp does, mode 0700, and returns its path.
	MkdirTemp(ctx context.Context, dir, pattern string) (string, error)
	// WriteFile replaces the file at path with data and perm atomically: readers see the old
	// or the new contents, never a mix. The parent directory must exist.
	WriteFile(ctx context.Context, path string, data []byte, perm fs.FileMode) error
	// WriteStream writes the file at path from write, atomically like WriteFile, for contents
	// too large to hold in memory. When write fails, path is left as it was.
	WriteStream(ctx context.Context, path string, perm fs.FileMode, write func(io.Writer) error) error
	// RemoveAll removes path and everything under it. A missing path is not an error.
	RemoveAll(ctx context.Context, path string) error
	// Run runs a command to completion and returns its combined output. A command that fails or
	// cannot start returns an *ExecError.
	Run(ctx context.Context, cmd Command) ([]byte, error)
	// SetSysctl sets a kernel parameter.
	SetSysctl(ctx context.Context, key, value string) error
	// Mount mounts source on target with the given filesystem type and comma-separated options.
	Mount(ctx context.Context, source, target, fstype, options string) error
	// Unmount unmounts target. A target that is not a mount point is not an error.
	Unmount(ctx context.Context, target string) error
	// Symlink makes link point at target, replacing a file or link already at link.
	Symlink(ctx context.Context, target, link string) error
	// Start starts a long-running command detached from this process (its own session, stdin
	// from /dev/null, output appended to logFile) and returns its PID without waiting for it.
	Start(ctx context.Context, cmd Command, logFile string) (int, error)
	// DestroyIPSet destroys the kernel's IP set name; no rule may still refer to it. A set that
	// is already gone is not an error.
	DestroyIPSet(ctx context.Context, name string) error
	// Signal sends sig to process pid, or to process group -pid when pid is negative. A process
	// that is already gone is not an error.
	Signal(ctx context.Context, pid int, sig syscall.Signal) error
}

// Command is a program to run with its arguments, extra environment and input.
type Command struct {
	Name  string
	Args  []string
	Env   []string // KEY=value pairs added to the inherited environment
	Stdin []byte   // input, for Run; none when nil
}

// String renders the command as a shell would read it (without its input).
func (c Command) String() string {
	words := make([]string, 0, len(c.Env)+1+len(c.Args))
	for _, w := range append(append(append(words, c.Env...), c.Name), c.Args...) {
		words = append(words, quote(w))
	}
	return strings.Join(words, " ")
}

func quote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:,+@%", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// ExecError is a command that failed, with what it printed.
type ExecError struct {
	Cmd    string
	Output []byte
	Err    error
}

func (e *ExecError) Error() string {
	msg := fmt.Sprintf("run %s: %v", e.Cmd, e.Err)
	if last := lastLine(e.Output); last != "" {
		msg += ": " + last
	}
	return msg
}

func (e *ExecError) Unwrap() error { return e.Err }

// lastLine is the last non-empty line of a command's output: usually its error message.
func lastLine(out []byte) string {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

type stepKey struct{}

// WithStep returns a context that attributes host changes to the named step.
func WithStep(ctx context.Context, step string) context.Context {
	return context.WithValue(ctx, stepKey{}, step)
}

// StepOf returns the step a context belongs to, or "".
func StepOf(ctx context.Context) string {
	s, _ := ctx.Value(stepKey{}).(string)
	return s
}
