package progress

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
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
