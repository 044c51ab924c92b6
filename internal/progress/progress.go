// Package progress shows long work as it happens: each task starts, then ends with ✓ or ✗ and a
// short detail. It writes to stderr so that stdout carries only a command's result.
package progress

import (
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"

	"golang.org/x/term"
)

// Reporter shows the progress of a sequence of tasks. Start and End alternate; End closes the
// task Start opened.
type Reporter interface {
	// Start announces a task by its human title.
	Start(title string)
	// Update tells how the current task is getting on; shown only where a line can be rewritten.
	Update(detail string)
	// End closes the current task; detail is an optional one-line result.
	End(ok bool, detail string)
}

// Format selects how progress is shown.
type Format int

const (
	// Text shows a line per task: rewritten in place on a terminal, appended otherwise.
	Text Format = iota
	// JSON writes one JSON object per event, for tools.
	JSON
	// Quiet shows nothing.
	Quiet
)

// New returns a Reporter writing to w in the given format.
func New(w io.Writer, f Format) Reporter {
	switch f {
	case JSON:
		return &jsonReporter{enc: json.NewEncoder(w), now: time.Now}
	case Quiet:
		return quiet{}
	default:
		return &textReporter{w: w, tty: IsTerminal(w)}
	}
}

// IsTerminal reports whether stream (an input or an output) is a terminal, i.e. a person is
// likely at it. Other character devices, such as /dev/null, are not.
func IsTerminal(stream any) bool {
	f, ok := stream.(interface{ Fd() uintptr })
	return ok && term.IsTerminal(int(f.Fd()))
}

type quiet struct{}

func (quiet) Start(string)     {}
func (quiet) Update(string)    {}
func (quiet) End(bool, string) {}

type textReporter struct {
	mu    sync.Mutex
	w     io.Writer
	tty   bool
	title string
	start time.Time
}

func (r *textReporter) Start(title string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.title, r.start = title, time.Now()
	if r.tty {
		fmt.Fprintf(r.w, "  • %s ...", title)
	}
}

func (r *textReporter) Update(detail string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.tty {
		fmt.Fprintf(r.w, "\r\033[K  • %s ... %s", r.title, detail)
	}
}

func (r *textReporter) End(ok bool, detail string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	mark := "✓"
	if !ok {
		mark = "✗"
	}
	line := fmt.Sprintf("  %s %s", mark, r.title)
	if detail != "" {
		line += ": " + detail
	}
	if d := time.Since(r.start); d >= time.Second {
		line += fmt.Sprintf(" (%s)", d.Round(100*time.Millisecond))
	}
	if r.tty {
		fmt.Fprint(r.w, "\r\033[K") // replace the "..." line
	}
	fmt.Fprintln(r.w, line)
}

type jsonReporter struct {
	mu    sync.Mutex
	enc   *json.Encoder
	now   func() time.Time
	title string
}

type event struct {
	Time   time.Time `json:"time"`
	Task   string    `json:"task"`
	Status string    `json:"status"` // started, progress, ok, failed
	Detail string    `json:"detail,omitempty"`
}

func (r *jsonReporter) Start(title string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.title = title
	_ = r.enc.Encode(event{Time: r.now().UTC(), Task: title, Status: "started"})
}

func (r *jsonReporter) Update(detail string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	_ = r.enc.Encode(event{Time: r.now().UTC(), Task: r.title, Status: "progress", Detail: detail})
}

func (r *jsonReporter) End(ok bool, detail string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	status := "ok"
	if !ok {
		status = "failed"
	}
	_ = r.enc.Encode(event{Time: r.now().UTC(), Task: r.title, Status: status, Detail: detail})
}
