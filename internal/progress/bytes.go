package progress

import (
	"fmt"
	"io"
	"time"
)

// Size is n bytes for people, in binary units: "812 B", "4.0 KiB", "512.0 MiB", "1.5 GiB".
func Size(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, prefix := float64(n)/unit, "KMGTPE"
	for i := 0; i < len(prefix); i++ {
		if v < unit || i == len(prefix)-1 {
			return fmt.Sprintf("%.1f %ciB", v, prefix[i])
		}
		v /= unit
	}
	return "" // unreachable: the loop returns at its last unit
}

// Bytes reports a long copy through a Reporter as "120.5 MiB/512.0 MiB, 41.2 MiB/s, 9s left", at
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
	s := Size(done) + "/" + Size(total)
	if elapsed <= 0 || done <= 0 {
		return s
	}
	rate := float64(done) / elapsed.Seconds()
	left := time.Duration(float64(total-done) / rate * float64(time.Second)).Round(time.Second)
	return fmt.Sprintf("%s, %s/s, %s left", s, Size(int64(rate)), left)
}

// Reader counts the bytes read through it and, when Update is set, reports them with Total.
type Reader struct {
	R      io.Reader
	Total  int64
	Update func(done, total int64)
	done   int64
}

func (r *Reader) Read(p []byte) (int, error) {
	n, err := r.R.Read(p)
	r.done += int64(n)
	if r.Update != nil {
		r.Update(r.done, r.Total)
	}
	return n, err
}

// Done is how many bytes have been read.
func (r *Reader) Done() int64 { return r.done }

// Writer counts the bytes written through it and, when Update is set, reports them each time
// another MiB has passed.
type Writer struct {
	W      io.Writer
	Update func(done int64)
	done   int64
}

func (w *Writer) Write(p []byte) (int, error) {
	n, err := w.W.Write(p)
	before := w.done
	w.done += int64(n)
	if w.Update != nil && before>>20 != w.done>>20 {
		w.Update(w.done)
	}
	return n, err
}
