package progress

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestText(t *testing.T) {
	var b bytes.Buffer
	r := New(&b, Text)
	r.Start("Verify the license")
	r.End(true, "L-1")
	r.Start("Write the config")
	r.End(false, "")
	if got, want := b.String(), "  ✓ Verify the license: L-1\n  ✗ Write the config\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestJSON(t *testing.T) {
	var b bytes.Buffer
	r := &jsonReporter{now: func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }}
	r.enc = json.NewEncoder(&b)
	r.Start("Plan")
	r.End(false, "no route")
	want := `{"time":"2026-01-02T03:04:05Z","task":"Plan","status":"started"}` + "\n" +
		`{"time":"2026-01-02T03:04:05Z","task":"Plan","status":"failed","detail":"no route"}` + "\n"
	if b.String() != want {
		t.Errorf("got %s\nwant %s", b.String(), want)
	}
}

func TestQuietAndTerminal(t *testing.T) {
	var b bytes.Buffer
	r := New(&b, Quiet)
	r.Start("x")
	r.End(true, "y")
	if b.Len() != 0 {
		t.Errorf("quiet wrote %q", b.String())
	}
	if IsTerminal(&b) || IsTerminal(strings.NewReader("")) {
		t.Error("a buffer is not a terminal")
	}
}

// /dev/null is a character device, not a terminal: install < /dev/null must say "pass --yes"
// instead of asking nobody. A pseudo-terminal is one.
func TestIsTerminal(t *testing.T) {
	null, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	if IsTerminal(null) {
		t.Error("/dev/null counts as a terminal")
	}
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Fatalf("open a pseudo-terminal: %v", err)
	}
	defer ptmx.Close()
	if err := unix.IoctlSetPointerInt(int(ptmx.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(ptmx.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	pts, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer pts.Close()
	if !IsTerminal(pts) {
		t.Error("a pseudo-terminal does not count as a terminal")
	}
}
