package bundle

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/datastax/mission-control/internal/host"
	"github.com/datastax/mission-control/internal/progress"
)

// ErrIsDirectory is a bundle path that names a directory.
var ErrIsDirectory = errors.New("is a directory, not a bundle file")

// OpenFile opens the bundle file at path through r.
func OpenFile(r host.Reader, path string) (fs.File, fs.FileInfo, error) {
	f, err := r.Open(path)
	if err != nil {
		return nil, nil, err
	}
	info, err := f.Stat()
	if err == nil && info.IsDir() {
		err = ErrIsDirectory
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, info, nil
}

// VerifyFile verifies the bundle file at path, read through r, as Verify does; update, when
// set, is told how many of its bytes have been read.
func VerifyFile(ctx context.Context, r host.Reader, path string, key ed25519.PublicKey, h Handlers, update func(done, total int64)) (Manifest, error) {
	f, info, err := OpenFile(r, path)
	if err != nil {
		return Manifest{}, err
	}
	defer f.Close()
	return Verify(ctx, &progress.Reader{R: f, Total: info.Size(), Update: update}, key, h)
}

// MakeOptions are what Make pulls and packs.
type MakeOptions struct {
	// Pull are images to fetch into ImagesDir first, as ParseImageRef reads them.
	Pull []string
	BuildOptions
	// Out is the bundle file to write.
	Out string
	// Progress shows each pull and the build.
	Progress progress.Reporter
}

// Make pulls the images of o.Pull into o.ImagesDir, then builds the bundle of every image there
// into o.Out, writing each file through h atomically: an interrupted run leaves no partial
// tarball or bundle behind.
func Make(ctx context.Context, h host.Host, o MakeOptions) (Manifest, error) {
	for _, ref := range o.Pull {
		if _, _, err := ParseImageRef(ref); err != nil {
			return Manifest{}, err
		}
	}
	if len(o.Pull) > 0 {
		if err := h.MkdirAll(ctx, o.ImagesDir, 0o755); err != nil {
			return Manifest{}, fmt.Errorf("--images-dir: %w", err)
		}
	}
	for i, ref := range o.Pull {
		if err := pullInto(ctx, h, o, ref, fmt.Sprintf("Pull %s (%d/%d)", ref, i+1, len(o.Pull))); err != nil {
			return Manifest{}, err
		}
	}
	o.Progress.Start("Build the bundle " + o.Out)
	bar := &progress.Bytes{R: o.Progress}
	o.BuildOptions.Progress = bar.Update
	var m Manifest
	err := h.WriteStream(ctx, o.Out, 0o644, func(w io.Writer) error {
		var err error
		m, err = Build(ctx, w, o.BuildOptions)
		return err
	})
	o.Progress.End(err == nil, "")
	return m, err
}

// pullInto writes one image into the images dir as NAME_TAG.tar.
func pullInto(ctx context.Context, h host.Host, o MakeOptions, ref, title string) error {
	known, _, _ := ParseImageRef(ref)
	file := filepath.Join(o.ImagesDir, strings.NewReplacer("/", "_", ":", "_", "@", "_").Replace(ImageName(known))+".tar")
	o.Progress.Start(title)
	var im Image
	err := h.WriteStream(ctx, file, 0o644, func(w io.Writer) error {
		counted := &progress.Writer{W: w, Update: func(n int64) { o.Progress.Update(progress.Size(n)) }}
		var err error
		im, err = Pull(ctx, ref, o.Arch, counted)
		return err
	})
	o.Progress.End(err == nil, im.Digest)
	return err
}

// ReadImageList reads an image list (bundle/images.txt): one reference per line, # comments.
func ReadImageList(r host.Reader, path string) ([]string, error) {
	data, err := r.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var refs []string
	for i, line := range strings.Split(string(data), "\n") {
		line, _, _ = strings.Cut(line, "#")
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		if _, _, err := ParseImageRef(line); err != nil {
			return nil, fmt.Errorf("%s line %d: %w", path, i+1, err)
		}
		refs = append(refs, line)
	}
	return refs, nil
}

// PinImageList rewrites the image list at path with every NAME:TAG pinned by pin, keeping its
// comments and layout, and returns the lines it pinned. Nothing is written when one fails.
func PinImageList(ctx context.Context, h host.Host, path string, pin func(context.Context, string) (string, error)) ([]string, error) {
	data, err := h.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	lines := strings.Split(string(data), "\n")
	var pinned []string
	for i, line := range lines {
		ref, comment, _ := strings.Cut(line, "#")
		if ref = strings.TrimSpace(ref); ref == "" || strings.Contains(ref, "@") {
			continue
		}
		p, err := pin(ctx, ref)
		if err != nil {
			return nil, fmt.Errorf("%s line %d: %w", path, i+1, err)
		}
		lines[i] = p
		if comment != "" {
			lines[i] += " #" + comment
		}
		pinned = append(pinned, p)
	}
	if len(pinned) == 0 {
		return nil, nil
	}
	info, err := host.Stat(h, path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := h.WriteFile(ctx, path, []byte(strings.Join(lines, "\n")), info.Mode().Perm()); err != nil {
		return nil, err
	}
	return pinned, nil
}

// Created is when a bundle is recorded as made: flag if given (RFC 3339), else
// $SOURCE_DATE_EPOCH (reproducible builds' convention, sourceDateEpoch), else now.
func Created(flag, sourceDateEpoch string, now time.Time) (time.Time, error) {
	switch {
	case flag != "":
		t, err := time.Parse(time.RFC3339, flag)
		if err != nil {
			return time.Time{}, fmt.Errorf("--created %q is not an RFC 3339 time, e.g. 2026-11-22T12:00:00Z", flag)
		}
		return t, nil
	case sourceDateEpoch != "":
		secs, err := strconv.ParseInt(sourceDateEpoch, 10, 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH %q is not a number of seconds", sourceDateEpoch)
		}
		return time.Unix(secs, 0), nil
	}
	return now, nil
}
