package progress

import (
	"fmt"
	"io"
	"time"
)

// Bytes reports a long copy through a Reporter as "120.5/512.0 MB, 41.2 MB/s, 9s left", at
// most every tenth of a second so that fast copies do not flood the output.
type Bytes struct {
	R       Reporter
	start   time.Time
	shownAt time.Time
}

// Update reports done out of total bytes.
func (b *Bytes) Update(done, total int64) {
	now := time.Now()
	if b.start.IsZero() {
		b.start = now
	}
	if now.Sub(b.shownAt) < 100*time.Millisecond && done < total {
		return
	}
	b.shownAt = now
	b.R.Update(FormatBytes(done, total, now.Sub(b.start)))
}

// FormatBytes is the progress of a copy of total bytes, done after elapsed.
func FormatBytes(done, total int64, elapsed time.Duration) string {
	const mb = 1 << 20
	s := fmt.Sprintf("%.1f/%.1f MB", float64(done)/mb, float64(total)/mb)
	if elapsed <= 0 || done <= 0 {
		return s
	}
	rate := float64(done) / elapsed.Seconds()
	left := time.Duration(float64(total-done) / rate * float64(time.Second)).Round(time.Second)
	return fmt.Sprintf("%s, %.1f MB/s, %s left", s, rate/mb, left)
}

// Reader reports how much of a stream of Total bytes has been read.
type Reader struct {
	R      io.Reader
	Total  int64
	Update func(done, total int64)
	done   int64
}

func (r *Reader) Read(p []byte) (int, error) {
	n, err := r.R.Read(p)
	r.done += int64(n)
	r.Update(r.done, r.Total)
	return n, err
}
