package bundle

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// ociEpoch is every entry's time in an image tarball: the same image gives the same bytes.
var ociEpoch = time.Unix(0, 0).UTC()

// ImageName is the name containerd and the kubelet know an image by: Docker Hub references get
// their canonical docker.io/ form ("cassandra:4" is docker.io/library/cassandra:4).
func ImageName(ref name.Reference) string {
	repo := ref.Context()
	registry := repo.RegistryStr()
	if registry == name.DefaultRegistry {
		registry = "docker.io"
	}
	sep := ":"
	if _, ok := ref.(name.Digest); ok {
		sep = "@"
	}
	return registry + "/" + repo.RepositoryStr() + sep + ref.Identifier()
}

// WriteImage writes img to w as an OCI image layout tarball, named ref in its index.json (the
// annotations containerd and other tools read). Entries are sorted and carry fixed times and
// owners, so the same image always gives the same bytes; blobs stream, so memory stays small
// however large the layers.
func WriteImage(w io.Writer, ref name.Reference, img v1.Image) error {
	index := mutate.AppendManifests(empty.Index, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{
		Annotations: map[string]string{"io.containerd.image.name": ImageName(ref), "org.opencontainers.image.ref.name": ref.Identifier()},
	}})
	indexJSON, err := index.RawManifest()
	if err != nil {
		return fmt.Errorf("image index: %w", err)
	}
	manifest, err := img.RawManifest()
	if err != nil {
		return fmt.Errorf("image manifest: %w", err)
	}
	manifestDigest, err := img.Digest()
	if err != nil {
		return err
	}
	config, err := img.RawConfigFile()
	if err != nil {
		return fmt.Errorf("image config: %w", err)
	}
	configDigest, err := img.ConfigName()
	if err != nil {
		return err
	}
	layers, err := img.Layers()
	if err != nil {
		return fmt.Errorf("image layers: %w", err)
	}

	type entry struct {
		name string
		size int64
		open func() (io.ReadCloser, error)
	}
	bytesEntry := func(name string, data []byte) entry {
		return entry{name, int64(len(data)), func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(string(data))), nil }}
	}
	blob := func(d v1.Hash) string { return "blobs/" + d.Algorithm + "/" + d.Hex }
	entries := []entry{
		bytesEntry("oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`)),
		bytesEntry("index.json", indexJSON),
		bytesEntry(blob(manifestDigest), manifest),
		bytesEntry(blob(configDigest), config),
	}
	seen := map[string]bool{blob(manifestDigest): true, blob(configDigest): true}
	for _, l := range layers {
		d, err := l.Digest()
		if err != nil {
			return err
		}
		size, err := l.Size()
		if err != nil {
			return err
		}
		if seen[blob(d)] {
			continue // a layer used twice is stored once
		}
		seen[blob(d)] = true
		entries = append(entries, entry{blob(d), size, l.Compressed})
	}
	slices.SortFunc(entries, func(a, b entry) int { return strings.Compare(a.name, b.name) })

	tw := tar.NewWriter(w)
	for _, e := range entries {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: e.name, Mode: 0o644, Size: e.size, ModTime: ociEpoch, Format: tar.FormatPAX}); err != nil {
			return err
		}
		rc, err := e.open()
		if err != nil {
			return fmt.Errorf("read %s: %w", e.name, err)
		}
		n, err := io.Copy(tw, rc)
		rc.Close()
		if err != nil {
			return fmt.Errorf("read %s: %w", e.name, err)
		}
		if n != e.size {
			return fmt.Errorf("%s has %d bytes where its manifest says %d", e.name, n, e.size)
		}
	}
	return tw.Close()
}

// ParseImageRef reads an image reference as bundle image lists write it: NAME:TAG, or pinned
// NAME:TAG@sha256:DIGEST (or NAME@sha256:DIGEST). It returns the name the image is known by
// and the reference to fetch: the digest when pinned.
func ParseImageRef(s string) (known, fetch name.Reference, err error) {
	base, digest, pinned := strings.Cut(s, "@")
	// name.NewTag would default a missing tag to "latest": a list must say which it means.
	hasTag := strings.Contains(base[strings.LastIndex(base, "/")+1:], ":")
	tag, tagErr := name.NewTag(base)
	if !pinned {
		if tagErr != nil || !hasTag {
			return nil, nil, fmt.Errorf("image %q: want NAME:TAG or NAME:TAG@sha256:DIGEST, e.g. docker.io/k8ssandra/system-logger:v1.30.0", s)
		}
		return tag, tag, nil
	}
	d, err := name.NewDigest(base + "@" + digest)
	if err != nil {
		return nil, nil, fmt.Errorf("image %q: %w", s, err)
	}
	if tagErr == nil && hasTag {
		return tag, d, nil
	}
	return d, d, nil
}

// resolve is ref by digest: a tag is asked of its registry once (the digest of what it names for
// every platform, an index when there are several).
func resolve(ref name.Reference, opts ...remote.Option) (name.Reference, error) {
	if _, isTag := ref.(name.Tag); !isTag {
		return ref, nil
	}
	desc, err := remote.Head(ref, opts...)
	if err != nil {
		return nil, err
	}
	return ref.Context().Digest(desc.Digest.String()), nil
}

// Pin is ref pinned as NAME:TAG@sha256:DIGEST, the digest its registry gives for the tag now; a
// pinned ref is returned as it is.
func Pin(ctx context.Context, ref string, opts ...remote.Option) (string, error) {
	_, fetch, err := ParseImageRef(ref)
	if err != nil {
		return "", err
	}
	if _, isTag := fetch.(name.Tag); !isTag {
		return ref, nil
	}
	opts = append([]remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(authn.DefaultKeychain)}, opts...)
	pinned, err := resolve(fetch, opts...)
	if err != nil {
		return "", fmt.Errorf("resolve %s: %w", ref, err)
	}
	return ref + "@" + pinned.Identifier(), nil // the name as the list writes it
}

// Pull fetches an image (see ParseImageRef) for linux/arch from its registry and writes it to
// w as an OCI image layout tarball. Every object is fetched by digest: a tag is resolved to its
// digest once, and each blob is checked against its digest as it streams. Credentials come from
// the usual docker config (~/.docker/config.json).
func Pull(ctx context.Context, ref, arch string, w io.Writer, opts ...remote.Option) (Image, error) {
	known, fetch, err := ParseImageRef(ref)
	if err != nil {
		return Image{}, err
	}
	opts = append([]remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(authn.DefaultKeychain),
		remote.WithPlatform(v1.Platform{OS: "linux", Architecture: arch})}, opts...)
	if fetch, err = resolve(fetch, opts...); err != nil {
		return Image{}, fmt.Errorf("resolve %s: %w", ref, err)
	}
	img, err := remote.Image(fetch, opts...)
	if err != nil {
		return Image{}, fmt.Errorf("pull %s: %w", ref, err)
	}
	digest, err := img.Digest()
	if err != nil {
		return Image{}, fmt.Errorf("pull %s: %w", ref, err)
	}
	if err := WriteImage(w, known, img); err != nil {
		return Image{}, fmt.Errorf("pull %s: %w", ref, err)
	}
	return Image{Name: ImageName(known), Digest: digest.String()}, nil
}
