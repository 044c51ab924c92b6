package bundle

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/datastax/mission-control/bundle/bundletest"
	"github.com/datastax/mission-control/internal/filelist"
)

var created = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

// writeImage writes an OCI layout tarball tagged name into dir.
func writeImage(t testing.TB, dir, file, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, file), bundletest.Image(name, content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func testKey(t testing.TB, seed byte) (ed25519.PublicKey, ed25519.PrivateKey) {
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
	return key.Public().(ed25519.PublicKey), key
}

func imagesDir(t testing.TB) string {
	dir := t.TempDir()
	writeImage(t, dir, "cassandra.tar", "docker.io/k8ssandra/cass-management-api:4.0.11", strings.Repeat("cassandra layer ", 4000))
	writeImage(t, dir, "medusa.tar", "docker.io/k8ssandra/medusa:0.24.0", strings.Repeat("medusa layer ", 3000))
	return dir
}

func build(t testing.TB, dir string, key ed25519.PrivateKey) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := Build(context.Background(), &buf, BuildOptions{ImagesDir: dir, Version: "v1.2.3", Arch: "amd64", Created: created, Key: key}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestBuildVerifyRoundTrip(t *testing.T) {
	pub, key := testKey(t, 1)
	dir := imagesDir(t)
	var progress []int64
	var buf bytes.Buffer
	built, err := Build(context.Background(), &buf, BuildOptions{ImagesDir: dir, Version: "v1.2.3", Arch: "amd64", Created: created, Key: key,
		Progress: func(done, total int64) { progress = append(progress, done) }})
	if err != nil {
		t.Fatal(err)
	}
	if len(progress) == 0 || progress[len(progress)-1] != built.Size() {
		t.Errorf("progress %v, want it to end at %d", progress, built.Size())
	}
	got := map[string]string{}
	m, err := Verify(context.Background(), bytes.NewReader(buf.Bytes()), pub, Handlers{File: func(f filelist.File, r io.Reader) error {
		data, err := io.ReadAll(r)
		got[f.Path] = fmt.Sprintf("%x", sha256.Sum256(data))
		return err
	}})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(built)
	if have, _ := json.Marshal(m); !bytes.Equal(have, want) {
		t.Errorf("manifest round trip:\n%s\nwant\n%s", have, want)
	}
	if len(m.Images) != 2 || m.Images[0].Name != "docker.io/k8ssandra/cass-management-api:4.0.11" || m.Images[0].File != "images/cassandra.tar" ||
		!strings.HasPrefix(m.Images[0].Digest, "sha256:") || m.Version != "v1.2.3" || !m.Created.Equal(created) {
		t.Errorf("manifest %+v", m)
	}
	for _, f := range m.Files {
		if got[f.Path] != f.SHA256 {
			t.Errorf("%s: streamed contents hash to %s, manifest says %s", f.Path, got[f.Path], f.SHA256)
		}
	}
}

func TestBuildIsReproducible(t *testing.T) {
	_, key := testKey(t, 1)
	dir := imagesDir(t)
	a, b := build(t, dir, key), build(t, dir, key)
	if sha256.Sum256(a) != sha256.Sum256(b) {
		t.Error("two builds of the same inputs differ")
	}
	later := time.Now().Add(time.Hour)
	for _, e := range []string{"cassandra.tar", "medusa.tar"} { // file times must not matter
		os.Chtimes(filepath.Join(dir, e), later, later)
	}
	if c := build(t, dir, key); sha256.Sum256(a) != sha256.Sum256(c) {
		t.Error("the images' file times changed the bundle")
	}
}

func TestVerifyRefusesTampering(t *testing.T) {
	pub, key := testKey(t, 1)
	dir := imagesDir(t)
	good := build(t, dir, key)
	_, otherKey := testKey(t, 2)
	other := imagesDir(t)
	writeImage(t, other, "cassandra.tar", "docker.io/k8ssandra/cass-management-api:4.0.11", "a backdoored layer")

	for _, tc := range []struct {
		name   string
		bundle []byte
		want   string
	}{
		{"signed by another key", build(t, dir, otherKey), "bundle signature does not verify with this build's release key"},
		{"edited manifest", bundletest.Rewrite(t, good, func(n string, d []byte) (string, []byte) {
			if n == manifestName {
				d = bytes.Replace(d, []byte(`"v1.2.3"`), []byte(`"v1.2.4"`), 1)
			}
			return n, d
		}), "bundle signature does not verify"},
		{"replaced image", bundletest.Rewrite(t, good, func(n string, d []byte) (string, []byte) {
			if n == "images/cassandra.tar" {
				d, _ = os.ReadFile(filepath.Join(other, "cassandra.tar"))
			}
			return n, d
		}), "bundle entry images/cassandra.tar does not match its manifest"},
		{"missing image", bundletest.Rewrite(t, good, func(n string, d []byte) (string, []byte) {
			if n == "images/medusa.tar" {
				return "", nil
			}
			return n, d
		}), "bundle ends before images/medusa.tar: it is truncated"},
		{"extra entry", bundletest.Rewrite(t, good, func(n string, d []byte) (string, []byte) {
			if n == "images/medusa.tar" {
				return "images/zzz.tar", d
			}
			return n, d
		}), "bundle entry images/zzz.tar where its manifest has images/medusa.tar"},
		{"truncated file", good[:len(good)*2/3], "bundle is truncated"},
		{"not a bundle", []byte("hello"), "bundle is damaged"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Verify(context.Background(), bytes.NewReader(tc.bundle), pub, Handlers{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}

	// Flipping any one byte is caught: by zstd's checksum, the tar reader, or the manifest.
	for _, at := range []int{0, 10, len(good) / 4, len(good) / 2, len(good) - 20, len(good) - 1} {
		flipped := bytes.Clone(good)
		flipped[at] ^= 0x40
		if _, err := Verify(context.Background(), bytes.NewReader(flipped), pub, Handlers{}); err == nil {
			t.Errorf("a byte flipped at %d of %d was not noticed", at, len(good))
		}
	}
}

// TestVerifyStopsAtTheManifest: a manifest the caller refuses (another version) ends
// verification before any file is read.
func TestVerifyStopsAtTheManifest(t *testing.T) {
	pub, key := testKey(t, 1)
	good := build(t, imagesDir(t), key)
	refused := errors.New("another version")
	files := 0
	_, err := Verify(context.Background(), bytes.NewReader(good), pub, Handlers{
		Manifest: func(m Manifest) error {
			if m.Version != "v1.2.3" || len(m.Files) != 2 {
				t.Errorf("manifest %+v", m)
			}
			return refused
		},
		File: func(filelist.File, io.Reader) error { files++; return nil },
	})
	if !errors.Is(err, refused) || files != 0 {
		t.Errorf("error %v after %d files, want the manifest's refusal before any", err, files)
	}
}
