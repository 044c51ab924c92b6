package progress

import (
	"testing"
	"time"
)

func TestFormatBytes(t *testing.T) {
	for _, tc := range []struct {
		done, total int64
		seconds     float64
		want        string
	}{
		{0, 512 << 20, 0, "0.0/512.0 MB"},
		{128 << 20, 512 << 20, 2, "128.0/512.0 MB, 64.0 MB/s, 6s left"},
		{512 << 20, 512 << 20, 8, "512.0/512.0 MB, 64.0 MB/s, 0s left"},
	} {
		if got := FormatBytes(tc.done, tc.total, secondsOf(tc.seconds)); got != tc.want {
			t.Errorf("FormatBytes(%d, %d, %vs) = %q, want %q", tc.done, tc.total, tc.seconds, got, tc.want)
		}
	}
}

func secondsOf(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
