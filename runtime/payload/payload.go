// Package payload is the runtime payload: the binaries and images the embedded Kubernetes runs,
// packed as one zstd-compressed tar with a manifest of every file's size and SHA-256. The build
// packs it (hack/payload); a binary built with the "payload" tag embeds it; install extracts it.
package payload

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/datastax/mission-control/internal/filelist"
)

// Manifest describes a payload.
type Manifest struct {
	Source   string            `json:"source"` // "source" (built here) or "release" (k0s release)
	Versions map[string]string `json:"versions"`
	// Images are the platform components' image references, e.g. "cass-operator" ->
	// "localhost/mission-control/cass-operator:v1.30.0".
	Images map[string]string `json:"images,omitempty"`
	Files  filelist.List     `json:"files"`
}

// Size is the payload's uncompressed size.
func (m Manifest) Size() int64 { return m.Files.Size() }

// Payload is a packed payload with its manifest.
type Payload struct {
	Manifest Manifest
	packed   []byte
}

// New returns the payload packed in data, described by manifest (JSON).
func New(data, manifest []byte) (*Payload, error) {
	p := &Payload{packed: data}
	if err := json.Unmarshal(manifest, &p.Manifest); err != nil {
		return nil, fmt.Errorf("payload manifest: %w", err)
	}
	return p, nil
}

// ErrNone means the binary was built without a payload.
var ErrNone = errors.New("this mission-control binary carries no runtime payload: build it with make build")

// epoch is every entry's time, so that packing is reproducible.
var epoch = time.Unix(0, 0).UTC()

// Pack writes every regular file under dir (following symlinks) to w as a reproducible tar.zst and
// returns its manifest.
func Pack(dir string, w io.Writer, source string, versions map[string]string) (Manifest, error) {
	m := Manifest{Source: source, Versions: versions}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := os.Stat(path) // follows the build's symlinks into its cache
		if err != nil {
			return err
		}
		if !fi.Mode().IsRegular() {
			return fmt.Errorf("%s is not a regular file", path)
		}
		rel, _ := filepath.Rel(dir, path)
		m.Files = append(m.Files, filelist.File{Path: filepath.ToSlash(rel), Size: fi.Size(), Mode: uint32(fi.Mode().Perm())})
		return nil
	})
	if err != nil {
		return m, fmt.Errorf("list payload files: %w", err)
	}
	slices.SortFunc(m.Files, func(a, b filelist.File) int { return cmpString(a.Path, b.Path) })
	zw, err := zstd.NewWriter(w, zstd.WithEncoderLevel(zstd.SpeedBetterCompression))
	if err != nil {
		return m, err
	}
	tw := tar.NewWriter(zw)
	for i := range m.Files {
		f := &m.Files[i]
		data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f.Path)))
		if err != nil {
			return m, err
		}
		sum := sha256.Sum256(data)
		f.SHA256 = hex.EncodeToString(sum[:])
		hdr := &tar.Header{Typeflag: tar.TypeReg, Name: f.Path, Size: int64(len(data)), Mode: int64(f.Mode), ModTime: epoch, Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			return m, err
		}
		if _, err := tw.Write(data); err != nil {
			return m, err
		}
	}
	if err := tw.Close(); err != nil {
		return m, err
	}
	return m, zw.Close()
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Extract calls fn with each file and its contents, in manifest order, after checking the
// contents against the manifest: a damaged payload is refused before fn sees the file.
func (p *Payload) Extract(fn func(f filelist.File, data []byte) error) error {
	zr, err := zstd.NewReader(bytes.NewReader(p.packed))
	if err != nil {
		return fmt.Errorf("open payload: %w", err)
	}
	defer zr.Close()
	tr := tar.NewReader(zr)
	for _, f := range p.Manifest.Files {
		hdr, err := tr.Next()
		if err != nil {
			return fmt.Errorf("payload ends before %s: %w", f.Path, err)
		}
		if hdr.Name != f.Path || hdr.Size != f.Size {
			return fmt.Errorf("payload entry %s (%d bytes) does not match its manifest (%s, %d bytes)", hdr.Name, hdr.Size, f.Path, f.Size)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			return fmt.Errorf("read payload entry %s: %w", f.Path, err)
		}
		sum := filelist.NewHash()
		sum.Write(data)
		if err := f.Check(int64(len(data)), sum); err != nil {
			return fmt.Errorf("payload entry %s is damaged (%w)", f.Path, err)
		}
		if err := fn(f, data); err != nil {
			return err
		}
	}
	if _, err := tr.Next(); err != io.EOF {
		return errors.New("payload has entries its manifest does not list")
	}
	return nil
}
