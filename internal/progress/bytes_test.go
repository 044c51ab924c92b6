package progress

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"
)

func TestSize(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 812: "812 B", 4096: "4.0 KiB", 512 << 20: "512.0 MiB", 3 << 29: "1.5 GiB", 5 << 40: "5.0 TiB"} {
		if got := Size(n); got != want {
			t.Errorf("Size(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestFormatBytes(t *testing.T) {
	for _, tc := range []struct {
		done, total int64
		seconds     float64
		want        string
	}{
		{0, 512 << 20, 0, "0 B/512.0 MiB"},
		{128 << 20, 512 << 20, 2, "128.0 MiB/512.0 MiB, 64.0 MiB/s, 6s left"},
		{512 << 20, 512 << 20, 8, "512.0 MiB/512.0 MiB, 64.0 MiB/s, 0s left"},
	} {
		if got := FormatBytes(tc.done, tc.total, secondsOf(tc.seconds)); got != tc.want {
			t.Errorf("FormatBytes(%d, %d, %vs) = %q, want %q", tc.done, tc.total, tc.seconds, got, tc.want)
		}
	}
}

func secondsOf(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

func TestReaderAndWriterCount(t *testing.T) {
	var reported []int64
	r := &Reader{R: strings.NewReader(strings.Repeat("x", 3<<20)), Total: 3 << 20}
	w := &Writer{W: io.Discard, Update: func(n int64) { reported = append(reported, n) }}
	if _, err := io.CopyBuffer(w, r, make([]byte, 1<<19)); err != nil {
		t.Fatal(err)
	}
	if r.Done() != 3<<20 || len(reported) != 3 || reported[2] != 3<<20 {
		t.Errorf("read %d, reported %v", r.Done(), reported)
	}
	var got bytes.Buffer
	calls := 0
	r = &Reader{R: strings.NewReader("abc"), Total: 3, Update: func(done, total int64) { calls++ }}
	if _, err := io.Copy(&got, r); err != nil || got.String() != "abc" || calls == 0 {
		t.Errorf("copied %q, %d updates, %v", got.String(), calls, err)
	}
}
