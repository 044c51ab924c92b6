package bundle

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

func TestImageName(t *testing.T) {
	for in, want := range map[string]string{
		"k8ssandra/system-logger:v1.30.0":           "docker.io/k8ssandra/system-logger:v1.30.0",
		"cassandra:4.1":                             "docker.io/library/cassandra:4.1",
		"localhost/mission-control/pause:3.10":      "localhost/mission-control/pause:3.10",
		"registry.example.com:5000/team/app:v2-ubi": "registry.example.com:5000/team/app:v2-ubi",
	} {
		known, fetch, err := ParseImageRef(in)
		if err != nil {
			t.Fatal(err)
		}
		if got := ImageName(known); got != want || fetch != known {
			t.Errorf("%s: named %s (fetched as %v), want %s", in, got, fetch, want)
		}
	}
	digest := "sha256:" + strings.Repeat("ab", 32)
	known, fetch, err := ParseImageRef("k8ssandra/medusa:0.24.0@" + digest)
	if err != nil {
		t.Fatal(err)
	}
	if ImageName(known) != "docker.io/k8ssandra/medusa:0.24.0" || ImageName(fetch) != "docker.io/k8ssandra/medusa@"+digest {
		t.Errorf("pinned: known %s, fetched %s", ImageName(known), ImageName(fetch))
	}
	for _, bad := range []string{"k8ssandra/medusa", "k8ssandra/medusa@sha256:abc", "UPPER/case:1", ""} {
		if _, _, err := ParseImageRef(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

// registryWith serves a registry on loopback holding one random image at ref (a path under
// the registry) and returns the registry's host and the image.
func registryWith(t *testing.T, repoTag string) (string, v1.Image) {
	t.Helper()
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	img, err := random.Image(64<<10, 3)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.NewTag(host + "/" + repoTag)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img); err != nil {
		t.Fatal(err)
	}
	return host, img
}

// layoutOf reads an OCI layout tarball and checks that every blob matches its digest.
func layoutOf(t *testing.T, data []byte) (index map[string]any, blobs map[string][]byte) {
	t.Helper()
	blobs = map[string][]byte{}
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		content, _ := io.ReadAll(tr)
		switch {
		case hdr.Name == "index.json":
			if err := json.Unmarshal(content, &index); err != nil {
				t.Fatal(err)
			}
		case strings.HasPrefix(hdr.Name, "blobs/sha256/"):
			sum := sha256.Sum256(content)
			if hex.EncodeToString(sum[:]) != strings.TrimPrefix(hdr.Name, "blobs/sha256/") {
				t.Errorf("blob %s does not match its digest", hdr.Name)
			}
			blobs[strings.TrimPrefix(hdr.Name, "blobs/")] = content
		}
	}
	return index, blobs
}

func TestPull(t *testing.T) {
	host, img := registryWith(t, "k8ssandra/cass-management-api:4.0.11-ubi")
	want, _ := img.Digest()
	ref := host + "/k8ssandra/cass-management-api:4.0.11-ubi"

	var first, second bytes.Buffer
	got, err := Pull(context.Background(), ref, "amd64", &first)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != ref || got.Digest != want.String() {
		t.Errorf("pulled %+v, want %s at %s", got, ref, want)
	}
	index, blobs := layoutOf(t, first.Bytes())
	layers, _ := img.Layers()
	if len(blobs) != len(layers)+2 { // + manifest and config
		t.Errorf("%d blobs, want %d", len(blobs), len(layers)+2)
	}
	manifests := index["manifests"].([]any)
	entry := manifests[0].(map[string]any)
	if entry["digest"] != want.String() || entry["annotations"].(map[string]any)["io.containerd.image.name"] != ref {
		t.Errorf("index.json: %v", index)
	}
	parsed, err := indexOf(tar.NewReader(bytes.NewReader(first.Bytes())))
	if err != nil || parsed.Name != ref || parsed.Digest != want.String() {
		t.Errorf("bundle reads the pulled image as %+v, %v", parsed, err)
	}

	// Pinned by digest: the same bytes, still named by its tag.
	if _, err := Pull(context.Background(), ref+"@"+want.String(), "amd64", &second); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first.Bytes(), second.Bytes()) {
		t.Error("pulling the same image by tag and by digest gave different tarballs")
	}

	other := "sha256:" + strings.Repeat("0", 64)
	if _, err := Pull(context.Background(), ref+"@"+other, "amd64", io.Discard); err == nil || !strings.Contains(err.Error(), "pull "+ref+"@"+other) {
		t.Errorf("a digest the registry does not hold: %v", err)
	}
	if _, err := Pull(context.Background(), host+"/k8ssandra/absent:1", "amd64", io.Discard); err == nil || !strings.Contains(err.Error(), "resolve "+host+"/k8ssandra/absent:1") {
		t.Errorf("a missing tag: %v", err)
	}
}
