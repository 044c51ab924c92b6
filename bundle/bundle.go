// Package bundle builds, verifies and reads air-gap bundles: one zstd-compressed tar holding a
// signed manifest and the files an install needs that the binary does not embed (image
// tarballs). The format is described in README.md beside this file.
package bundle

import (
	"archive/tar"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/mholt/archives"

	"github.com/datastax/mission-control/internal/filelist"
	"github.com/datastax/mission-control/internal/progress"
)

// FormatVersion is the bundle format this code writes and reads.
const FormatVersion = 1

// The first two entries of every bundle, in this order: verification needs them before any
// other entry streams past.
const (
	manifestName  = "manifest.json"
	signatureName = "manifest.json.sig"
)

// Image is an OCI image tarball of a bundle.
type Image struct {
	// Name is the image reference the tarball is tagged with; Digest its manifest's digest.
	Name   string `json:"name"`
	File   string `json:"file"`
	Digest string `json:"digest"`
}

// Manifest describes a bundle; its signature covers its exact bytes.
type Manifest struct {
	Format int `json:"format"`
	// Version is the mission-control version the bundle belongs to: install refuses a bundle of
	// another version.
	Version string        `json:"version"`
	Arch    string        `json:"arch"`
	Created time.Time     `json:"created"`
	Files   filelist.List `json:"files"`
	Images  []Image       `json:"images"`
}

// Size is the bundle's payload size, uncompressed.
func (m Manifest) Size() int64 { return m.Files.Size() }

// ID names the bundle by what its signature covers: its version, when it was built, and a digest
// of its files (paths, sizes, checksums). Joining nodes compare it with their controller's.
func (m Manifest) ID() string {
	sum := sha256.New()
	for _, f := range m.Files {
		fmt.Fprintf(sum, "%s %d %s\n", f.Path, f.Size, f.SHA256)
	}
	return fmt.Sprintf("%s built %s, sha256:%s", m.Version, m.Created.UTC().Format(time.RFC3339), hexSum(sum)[:12])
}

// BuildOptions are a bundle's inputs.
type BuildOptions struct {
	// ImagesDir holds the OCI image tarballs (*.tar) to bundle.
	ImagesDir string
	Version   string
	Arch      string
	// Created is recorded in the manifest and as every entry's time: the same inputs and
	// Created give the same bytes.
	Created time.Time
	Key     ed25519.PrivateKey
	// Progress, when set, is told the bytes written so far out of the total.
	Progress func(done, total int64)
}

// Build writes a bundle to w and returns its manifest.
func Build(ctx context.Context, w io.Writer, o BuildOptions) (Manifest, error) {
	m := Manifest{Format: FormatVersion, Version: o.Version, Arch: o.Arch, Created: o.Created.UTC().Truncate(time.Second)}
	entries, err := os.ReadDir(o.ImagesDir)
	if err != nil {
		return Manifest{}, fmt.Errorf("read --images-dir: %w", err)
	}
	local := map[string]string{} // path in bundle -> path on disk
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".tar") {
			continue
		}
		disk := filepath.Join(o.ImagesDir, e.Name())
		f, im, err := imageOf(disk, "images/"+e.Name())
		if err != nil {
			return Manifest{}, fmt.Errorf("image tarball %s: %w", disk, err)
		}
		m.Files = append(m.Files, f)
		m.Images = append(m.Images, im)
		local[f.Path] = disk
	}
	if len(m.Files) == 0 {
		return Manifest{}, fmt.Errorf("--images-dir %s holds no image tarballs (*.tar)", o.ImagesDir)
	}
	manifest, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return Manifest{}, err
	}
	sig := []byte(base64.StdEncoding.EncodeToString(ed25519.Sign(o.Key, manifest)))

	files := []archives.FileInfo{memoryFile(manifestName, manifest, m.Created), memoryFile(signatureName, sig, m.Created)}
	total := m.Size()
	var before int64 // the bytes of the files before f, which progress adds f's to
	for _, f := range m.Files {
		disk, offset := local[f.Path], before
		before += f.Size
		files = append(files, archives.FileInfo{
			FileInfo:      fixedInfo{name: path.Base(f.Path), size: f.Size, mtime: m.Created},
			NameInArchive: f.Path,
			Open: func() (fs.File, error) {
				file, err := os.Open(disk)
				if err != nil {
					return nil, err
				}
				counted := &progress.Reader{R: file, Update: func(n, _ int64) {
					if o.Progress != nil {
						o.Progress(offset+n, total)
					}
				}}
				return readerFile{File: file, r: counted}, nil
			},
		})
	}
	// One encoder goroutine and fixed headers (numeric owner 0, fixed times, manifest order)
	// make the output a function of the inputs alone.
	format := archives.CompressedArchive{
		Compression: archives.Zstd{EncoderOptions: []zstd.EOption{zstd.WithEncoderConcurrency(1), zstd.WithEncoderLevel(zstd.SpeedBetterCompression)}},
		Archival:    archives.Tar{NumericUIDGID: true, Format: tar.FormatPAX},
	}
	if err := format.Archive(ctx, w, files); err != nil {
		return Manifest{}, fmt.Errorf("write bundle: %w", err)
	}
	return m, nil
}

// imageOf reads an OCI layout tarball once: its size and SHA-256, and from its index.json the
// image's name and manifest digest.
func imageOf(disk, inBundle string) (filelist.File, Image, error) {
	f, err := os.Open(disk)
	if err != nil {
		return filelist.File{}, Image{}, err
	}
	defer f.Close()
	h := sha256.New()
	counted := &progress.Reader{R: io.TeeReader(f, h)}
	im, err := indexOf(tar.NewReader(counted))
	if err != nil {
		return filelist.File{}, Image{}, err
	}
	if _, err := io.Copy(io.Discard, counted); err != nil { // the rest, for the hash
		return filelist.File{}, Image{}, err
	}
	im.File = inBundle
	return filelist.File{Path: inBundle, Size: counted.Done(), SHA256: hexSum(h)}, im, nil
}

// indexOf finds index.json in an OCI layout tarball and reads its one image.
func indexOf(tr *tar.Reader) (Image, error) {
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return Image{}, errors.New("no index.json: not an OCI image layout tarball")
		}
		if err != nil {
			return Image{}, err
		}
		if path.Clean(hdr.Name) != "index.json" {
			continue
		}
		var index struct {
			Manifests []struct {
				Digest      string            `json:"digest"`
				Annotations map[string]string `json:"annotations"`
			} `json:"manifests"`
		}
		if err := json.NewDecoder(tr).Decode(&index); err != nil {
			return Image{}, fmt.Errorf("index.json: %w", err)
		}
		if len(index.Manifests) != 1 {
			return Image{}, fmt.Errorf("index.json lists %d images, want 1", len(index.Manifests))
		}
		m := index.Manifests[0]
		name := m.Annotations["io.containerd.image.name"]
		if name == "" {
			name = m.Annotations["org.opencontainers.image.ref.name"]
		}
		if name == "" {
			return Image{}, errors.New("index.json names no image (io.containerd.image.name)")
		}
		return Image{Name: name, Digest: m.Digest}, nil
	}
}

// Handlers follow a verification as it streams; either may be nil.
type Handlers struct {
	// Manifest receives the manifest as soon as its signature verifies, before any file is
	// read: an error (a bundle of another version, too little space) ends verification there.
	Manifest func(Manifest) error
	// File receives each entry's contents as they stream; what it makes of them must not be
	// trusted until Verify returns nil (or it checks the entry's digest itself).
	File func(f filelist.File, contents io.Reader) error
}

// Verify reads a whole bundle from r, checking the manifest's signature with key, then every
// entry against the manifest, and returns the manifest. Memory use does not grow with the
// bundle: entries are hashed as they stream.
func Verify(ctx context.Context, r io.Reader, key ed25519.PublicKey, h Handlers) (Manifest, error) {
	v := &verifier{key: key, handlers: h}
	dec, err := archives.Zstd{}.OpenReader(r)
	if err != nil {
		return Manifest{}, fmt.Errorf("bundle is damaged (not zstd-compressed): %w", err)
	}
	defer dec.Close()
	err = archives.Tar{}.Extract(ctx, dec, func(ctx context.Context, info archives.FileInfo) error {
		v.err = v.entry(info)
		return v.err
	})
	if err == nil {
		// The tar ends before the compressed stream does: read on to its end, so that zstd checks
		// the stream's checksum and nothing trails the archive.
		var trailing int64
		if trailing, err = io.Copy(io.Discard, dec); err == nil && trailing > 0 {
			err = fmt.Errorf("%d bytes after the end of the archive", trailing)
		}
	}
	return v.result(err)
}

// verifier follows a bundle's entries as they stream: its manifest, the manifest's signature,
// then each file of the manifest in order.
type verifier struct {
	key      ed25519.PublicKey
	handlers Handlers
	manifest []byte // as signed
	m        Manifest
	signed   bool
	next     int   // the index of the next file the manifest lists
	err      error // ours, returned as is rather than as the archive library wraps it
}

func (v *verifier) entry(info archives.FileInfo) error {
	rc, err := info.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	switch {
	case v.manifest == nil:
		return v.readManifest(info.NameInArchive, rc)
	case !v.signed:
		return v.checkSignature(info.NameInArchive, rc)
	}
	return v.checkFile(info.NameInArchive, rc)
}

func (v *verifier) readManifest(name string, r io.Reader) error {
	if name != manifestName {
		return fmt.Errorf("bundle starts with %s, not %s: not a mission-control bundle", name, manifestName)
	}
	var err error
	v.manifest, err = io.ReadAll(io.LimitReader(r, 16<<20))
	return err
}

func (v *verifier) checkSignature(name string, r io.Reader) error {
	if name != signatureName {
		return fmt.Errorf("bundle has no signature after its manifest (found %s)", name)
	}
	encoded, err := io.ReadAll(io.LimitReader(r, 1024))
	if err != nil {
		return err
	}
	sig, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(encoded)))
	if err != nil || !ed25519.Verify(v.key, v.manifest, sig) {
		return errors.New("bundle signature does not verify with this build's release key: the bundle was signed by another key or its manifest was edited")
	}
	v.signed = true
	if err := json.Unmarshal(v.manifest, &v.m); err != nil {
		return fmt.Errorf("bundle manifest: %w", err)
	}
	if v.m.Format != FormatVersion {
		return fmt.Errorf("bundle format %d: this mission-control reads format %d; use the bundle of this version", v.m.Format, FormatVersion)
	}
	if v.handlers.Manifest != nil {
		return v.handlers.Manifest(v.m)
	}
	return nil
}

func (v *verifier) checkFile(name string, r io.Reader) error {
	if v.next >= len(v.m.Files) {
		return fmt.Errorf("bundle entry %s is not in its manifest", name)
	}
	want := v.m.Files[v.next]
	if name != want.Path {
		return fmt.Errorf("bundle entry %s where its manifest has %s: the bundle was altered", name, want.Path)
	}
	sum := sha256.New()
	counted := &progress.Reader{R: io.TeeReader(r, sum)}
	var err error
	if v.handlers.File != nil {
		err = v.handlers.File(want, counted)
	}
	if err != nil {
		return err
	}
	if _, err := io.Copy(io.Discard, counted); err != nil { // whatever the handler left unread
		return err
	}
	if err := want.Check(counted.Done(), sum); err != nil {
		return fmt.Errorf("bundle entry %s does not match its manifest (%w): it was damaged or replaced", name, err)
	}
	v.next++
	return nil
}

// result is the verification's outcome once the stream has been read, up to extractErr.
func (v *verifier) result(extractErr error) (Manifest, error) {
	switch {
	case extractErr == nil:
	case v.err != nil && !errors.Is(v.err, io.ErrUnexpectedEOF):
		return Manifest{}, v.err
	case errors.Is(extractErr, io.ErrUnexpectedEOF):
		return Manifest{}, fmt.Errorf("bundle is truncated: %w", extractErr)
	default:
		return Manifest{}, fmt.Errorf("bundle is damaged (not a readable zstd-compressed tar): %w", extractErr)
	}
	switch {
	case v.manifest == nil:
		return Manifest{}, errors.New("bundle is empty: not a mission-control bundle")
	case !v.signed:
		return Manifest{}, errors.New("bundle has no signature after its manifest")
	case v.next < len(v.m.Files):
		return Manifest{}, fmt.Errorf("bundle ends before %s: it is truncated", v.m.Files[v.next].Path)
	}
	return v.m, nil
}

func hexSum(h hash.Hash) string { return hex.EncodeToString(h.Sum(nil)) }

// readerFile is an open file whose reads go through r (which reads the file).
type readerFile struct {
	fs.File
	r io.Reader
}

func (f readerFile) Read(p []byte) (int, error) { return f.r.Read(p) }

// fixedInfo is a regular file's info with a fixed time and mode, for reproducible headers.
type fixedInfo struct {
	name  string
	size  int64
	mtime time.Time
}

func (f fixedInfo) Name() string       { return f.name }
func (f fixedInfo) Size() int64        { return f.size }
func (f fixedInfo) Mode() fs.FileMode  { return 0o644 }
func (f fixedInfo) ModTime() time.Time { return f.mtime }
func (f fixedInfo) IsDir() bool        { return false }
func (f fixedInfo) Sys() any           { return nil }

type memFile struct {
	*strings.Reader
	info fixedInfo
}

func (m memFile) Stat() (fs.FileInfo, error) { return m.info, nil }
func (memFile) Close() error                 { return nil }

func memoryFile(name string, data []byte, mtime time.Time) archives.FileInfo {
	info := fixedInfo{name: name, size: int64(len(data)), mtime: mtime}
	return archives.FileInfo{FileInfo: info, NameInArchive: name, Open: func() (fs.File, error) {
		return memFile{Reader: strings.NewReader(string(data)), info: info}, nil
	}}
}

// errManifestRead stops ReadManifest's pass once the manifest is verified.
var errManifestRead = errors.New("manifest read")

// ReadManifest reads a bundle only as far as its manifest and signature, and returns the
// manifest once the signature verifies with key. Its files are not checked: Verify does that.
func ReadManifest(ctx context.Context, r io.Reader, key ed25519.PublicKey) (Manifest, error) {
	var m Manifest
	_, err := Verify(ctx, r, key, Handlers{Manifest: func(got Manifest) error { m = got; return errManifestRead }})
	if errors.Is(err, errManifestRead) {
		return m, nil
	}
	if err == nil {
		err = errors.New("bundle has no manifest")
	}
	return Manifest{}, err
}
