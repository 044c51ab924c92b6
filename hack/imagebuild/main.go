// Command imagebuild packs files into a single-layer container image tarball, reproducibly: same
// inputs, same bytes. The tarball is an OCI image layout (or, with -format docker, a
// docker-archive); containerd imports both. The runtime build uses it for every image of the
// payload; there is no registry and no Docker here.
//
//	imagebuild -name localhost/mission-control/pause:3.10 -out pause.tar \
//	  -entrypoint /pause -label org.opencontainers.image.source=... /pause=bin/pause
//
// Each argument is DEST=SRC (a file copied with its mode) or DEST@TARGET (a symlink).
package main

import (
	"archive/tar"
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/datastax/mission-control/bundle"
)

type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(s string) error { *l = append(*l, s); return nil }

// epoch is every file's and the image's time, so that builds are reproducible.
var epoch = time.Unix(0, 0).UTC()

func main() {
	var ref, out, user, workdir, format string
	var entrypoint, labels, env list
	flag.StringVar(&ref, "name", "", "image reference, e.g. localhost/mission-control/pause:3.10")
	flag.StringVar(&out, "out", "", "tarball to write")
	flag.StringVar(&user, "user", "", "user to run as, e.g. 65532")
	flag.StringVar(&workdir, "workdir", "/", "working directory")
	flag.StringVar(&format, "format", "oci", "tarball format: oci (an OCI image layout) or docker (docker-archive)")
	flag.Var(&entrypoint, "entrypoint", "entrypoint word (repeat for several)")
	flag.Var(&labels, "label", "KEY=VALUE image label (repeat)")
	flag.Var(&env, "env", "KEY=VALUE environment variable (repeat)")
	flag.Parse()
	if err := build(ref, out, user, workdir, format, entrypoint, labels, env, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "imagebuild:", err)
		os.Exit(1)
	}
}

func build(ref, out, user, workdir, format string, entrypoint, labels, env, specs []string) error {
	if ref == "" || out == "" || len(specs) == 0 {
		return fmt.Errorf("-name, -out and at least one DEST=SRC are required")
	}
	tag, err := name.NewTag(ref)
	if err != nil {
		return fmt.Errorf("image name: %w", err)
	}
	layerTar, err := layer(specs)
	if err != nil {
		return err
	}
	base, layerType := empty.Image, types.DockerLayer
	if format == "oci" {
		base, layerType = mutate.MediaType(mutate.ConfigMediaType(empty.Image, types.OCIConfigJSON), types.OCIManifestSchema1), types.OCILayer
	}
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(layerTar)), nil }, tarball.WithMediaType(layerType))
	if err != nil {
		return fmt.Errorf("layer: %w", err)
	}
	img, err := mutate.AppendLayers(base, l)
	if err != nil {
		return err
	}
	cfg := v1.Config{Entrypoint: entrypoint, User: user, WorkingDir: workdir, Env: env, Labels: map[string]string{}}
	for _, kv := range labels {
		k, v, _ := strings.Cut(kv, "=")
		cfg.Labels[k] = v
	}
	if img, err = mutate.Config(img, cfg); err != nil {
		return err
	}
	if img, err = mutate.CreatedAt(img, v1.Time{Time: epoch}); err != nil {
		return err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return err
	}
	cf.Architecture, cf.OS = "amd64", "linux"
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		return err
	}
	switch format {
	case "docker":
		return tarball.WriteToFile(out, tag, img)
	case "oci":
		return writeOCI(out, tag, img)
	}
	return fmt.Errorf("-format %q: use oci or docker", format)
}

// writeOCI writes the image as an OCI image layout tarball, the format bundles carry.
func writeOCI(out string, tag name.Tag, img v1.Image) error {
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := bundle.WriteImage(f, tag, img); err != nil {
		return err
	}
	return f.Close()
}

// layer builds the layer tarball: parent directories first, entries sorted, fixed times and owners.
func layer(specs []string) ([]byte, error) {
	type entry struct {
		dest, src, link string
	}
	var entries []entry
	dirs := map[string]bool{}
	for _, s := range specs {
		e := entry{}
		if d, src, ok := strings.Cut(s, "="); ok {
			e.dest, e.src = d, src
		} else if d, target, ok := strings.Cut(s, "@"); ok {
			e.dest, e.link = d, target
		} else {
			return nil, fmt.Errorf("%q is neither DEST=SRC nor DEST@TARGET", s)
		}
		e.dest = strings.TrimPrefix(path.Clean("/"+e.dest), "/")
		entries = append(entries, e)
		for d := path.Dir(e.dest); d != "." && d != "/"; d = path.Dir(d) {
			dirs[d] = true
		}
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	sortedDirs := make([]string, 0, len(dirs))
	for d := range dirs {
		sortedDirs = append(sortedDirs, d)
	}
	sort.Strings(sortedDirs)
	for _, d := range sortedDirs {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d + "/", Mode: 0o755, ModTime: epoch, Format: tar.FormatPAX}); err != nil {
			return nil, err
		}
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].dest < entries[j].dest })
	for _, e := range entries {
		if e.link != "" {
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: e.dest, Linkname: e.link, Mode: 0o777, ModTime: epoch, Format: tar.FormatPAX}); err != nil {
				return nil, err
			}
			continue
		}
		data, err := os.ReadFile(e.src)
		if err != nil {
			return nil, err
		}
		fi, err := os.Stat(e.src)
		if err != nil {
			return nil, err
		}
		hdr := &tar.Header{Typeflag: tar.TypeReg, Name: e.dest, Mode: int64(fi.Mode().Perm()), Size: int64(len(data)), ModTime: epoch, Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, err
		}
		if _, err := tw.Write(data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
