package bundle

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/ed25519"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/datastax/mission-control/internal/filelist"
	"github.com/datastax/mission-control/internal/releasekey"
	"github.com/datastax/mission-control/runtime/payload"
)

// BenchmarkVerifyExtract measures what install does with a bundle, verify it and then extract it
// with every file checked, against GNU tar extracting the same bundle (no verification) in the
// same run; and the bundle's size against a gzip of the same tar. The images are the runtime
// payload's real ones (make runtime builds them).
func BenchmarkVerifyExtract(b *testing.B) {
	images := payloadImages(b)
	key, err := os.ReadFile("../examples/development-license.key")
	if err != nil {
		b.Fatal(err)
	}
	priv, err := releasekey.ParsePrivate(key)
	if err != nil {
		b.Fatal(err)
	}
	bundlePath := filepath.Join(b.TempDir(), "bench.airgap")
	out, err := os.Create(bundlePath)
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	m, err := Build(context.Background(), out, BuildOptions{ImagesDir: images, Version: "bench", Arch: "amd64", Created: time.Unix(0, 0), Key: priv})
	if err != nil {
		b.Fatal(err)
	}
	built := time.Since(start)
	if err := out.Close(); err != nil {
		b.Fatal(err)
	}
	info, _ := os.Stat(bundlePath)
	gzipped := gzipSize(b, images)

	var ours, gnu time.Duration
	for b.Loop() {
		dir := b.TempDir()
		start := time.Now()
		verifyExtract(b, bundlePath, dir, priv.Public().(ed25519.PublicKey))
		ours += time.Since(start)

		dir = b.TempDir()
		start = time.Now()
		if out, err := exec.Command("tar", "--zstd", "-xf", bundlePath, "-C", dir).CombinedOutput(); err != nil {
			b.Fatalf("tar --zstd -xf: %v\n%s", err, out)
		}
		gnu += time.Since(start)
	}
	mb := float64(m.Size()) / (1 << 20)
	oursRate, gnuRate := mb/(ours.Seconds()/float64(b.N)), mb/(gnu.Seconds()/float64(b.N))
	b.Logf("bundle of %d images, %.1f MB: built in %s; verify + verified extract %.0f MB/s, tar --zstd -xf (no verification) %.0f MB/s: %.2fx of tar's throughput",
		len(m.Images), mb, built.Round(time.Millisecond), oursRate, gnuRate, oursRate/gnuRate)
	b.Logf("size: bundle (zstd) %.1f MB, gzip -6 of the same tar %.1f MB: %.2fx of gzip's size", float64(info.Size())/(1<<20), float64(gzipped)/(1<<20), float64(info.Size())/float64(gzipped))
	b.ReportMetric(oursRate, "MB/s-verify+extract")
	b.ReportMetric(gnuRate, "MB/s-tar-xf")
	b.ReportMetric(oursRate/gnuRate, "ratio-vs-tar")
	b.ReportMetric(float64(info.Size())/float64(gzipped), "size-ratio-vs-gzip")
}

// verifyExtract is install's two passes: verify the whole bundle, then extract it, each file
// checked again as it streams.
func verifyExtract(b *testing.B, bundlePath, dir string, pub ed25519.PublicKey) {
	for _, extract := range []bool{false, true} {
		f, err := os.Open(bundlePath)
		if err != nil {
			b.Fatal(err)
		}
		var h Handlers
		if extract {
			h.File = func(file filelist.File, contents io.Reader) error {
				out, err := os.Create(filepath.Join(dir, path.Base(file.Path)))
				if err != nil {
					return err
				}
				if _, err := io.Copy(out, contents); err != nil {
					out.Close()
					return err
				}
				return out.Close()
			}
		}
		_, err = Verify(context.Background(), f, pub, h)
		f.Close()
		if err != nil {
			b.Fatal(err)
		}
	}
}

// payloadImages writes the runtime payload's image tarballs into a directory.
func payloadImages(b *testing.B) string {
	data, err := os.ReadFile("../runtime/payload/payload.tar.zst")
	manifest, merr := os.ReadFile("../runtime/payload/payload.json")
	if err != nil || merr != nil {
		b.Fatalf("the runtime payload is not built (%v, %v): run make runtime", err, merr)
	}
	p, err := payload.New(data, manifest)
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	err = p.Extract(func(f filelist.File, data []byte) error {
		if !strings.HasPrefix(f.Path, "images/") {
			return nil
		}
		return os.WriteFile(filepath.Join(dir, path.Base(f.Path)), data, 0o644)
	})
	if err != nil {
		b.Fatal(err)
	}
	return dir
}

// gzipSize is the size of the images as one tar, gzipped at the default level.
func gzipSize(b *testing.B, dir string) int64 {
	counted := &countingWriter{}
	zw := gzip.NewWriter(counted)
	tw := tar.NewWriter(zw)
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			b.Fatal(err)
		}
		if err := tw.WriteHeader(&tar.Header{Name: "images/" + e.Name(), Mode: 0o644, Size: int64(len(data))}); err != nil {
			b.Fatal(err)
		}
		tw.Write(data)
	}
	tw.Close()
	zw.Close()
	return counted.n
}

type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }
