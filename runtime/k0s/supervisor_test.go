package k0s

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/datastax/mission-control/internal/host"
)

// syncBuffer is a log written by the supervisor and its child while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var fast = Supervision{StopTimeout: time.Second, MaxBackoff: 40 * time.Millisecond, StableAfter: time.Hour}

func supervise(t *testing.T, script string, opts Supervision, until func(log string) bool) (string, time.Duration) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	log := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- Supervise(ctx, host.Command{Name: "sh", Args: []string{"-c", script}}, log, opts) }()
	deadline := time.Now().Add(10 * time.Second)
	for !until(log.String()) {
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("condition not reached; log:\n%s", log)
		}
		time.Sleep(10 * time.Millisecond)
	}
	start := time.Now()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Supervise did not return after cancellation")
	}
	return log.String(), time.Since(start)
}

func TestSuperviseRestartsAChildThatExits(t *testing.T) {
	log, _ := supervise(t, "echo ran; exit 3", fast, func(log string) bool { return strings.Count(log, "ran\n") >= 3 })
	if !strings.Contains(log, "exited after") || !strings.Contains(log, "exit status 3") || !strings.Contains(log, "restarting in") {
		t.Errorf("log:\n%s", log)
	}
}

func TestSuperviseStopsTheChild(t *testing.T) {
	log, took := supervise(t, "trap 'echo got TERM; exit 0' TERM; echo up; while :; do sleep 0.05; done", fast,
		func(log string) bool { return strings.Contains(log, "up\n") })
	if !strings.Contains(log, "got TERM") || !strings.Contains(log, "supervisor: stopped") || took > 900*time.Millisecond {
		t.Errorf("stopped in %s; log:\n%s", took, log)
	}
}

func TestSuperviseKillsAChildThatIgnoresTERM(t *testing.T) {
	log, took := supervise(t, "trap '' TERM; echo up; while :; do sleep 0.05; done", fast,
		func(log string) bool { return strings.Contains(log, "up\n") })
	if !strings.Contains(log, "did not stop within 1s; killing it") || took < time.Second {
		t.Errorf("stopped in %s; log:\n%s", took, log)
	}
}

func TestSuperviseReportsAMissingProgram(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	log := &syncBuffer{}
	if err := Supervise(ctx, host.Command{Name: "/nonexistent/k0s"}, log, fast); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "cannot start /nonexistent/k0s") {
		t.Errorf("log:\n%s", log)
	}
}
