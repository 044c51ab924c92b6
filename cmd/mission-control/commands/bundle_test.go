package commands

import (
	"crypto/sha256"
	"encoding/json"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/datastax/mission-control/bundle"
	"github.com/datastax/mission-control/bundle/bundletest"
)

// developmentKey signs bundles this test build trusts (it trusts the development release key).
const developmentKey = "../../../examples/development-license.key"

func TestBundleBuildVerifyInspect(t *testing.T) {
	images := t.TempDir()
	for name, ref := range map[string]string{"cassandra.tar": "docker.io/k8ssandra/cass-management-api:4.0.11", "reaper.tar": "docker.io/thelastpickle/cassandra-reaper:3.8.0"} {
		if err := os.WriteFile(filepath.Join(images, name), bundletest.Image(ref, strings.Repeat(name, 1000)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(t.TempDir(), "mc.airgap")
	build := []string{"bundle", "build", "--images-dir", images, "--signing-key", developmentKey, "--created", "2026-11-22T12:00:00Z", "--version", "v1.2.3", "--out", out}
	r := run(t, testDeps(), "", build...)
	if r.code != 0 || !strings.Contains(r.stdout, "Built "+out+": mission-control v1.2.3, 2 images") {
		t.Fatalf("build: %+v", r)
	}
	first, _ := os.ReadFile(out)
	if r := run(t, testDeps(), "", build...); r.code != 0 {
		t.Fatalf("second build: %+v", r)
	}
	if second, _ := os.ReadFile(out); sha256.Sum256(first) != sha256.Sum256(second) {
		t.Error("two builds of the same inputs differ")
	}

	if r := run(t, testDeps(), "", "bundle", "verify", out); r.code != 0 || !strings.Contains(r.stdout, "is a valid bundle for mission-control v1.2.3") {
		t.Errorf("verify: %+v", r)
	}
	r = run(t, testDeps(), "", "bundle", "inspect", out, "-o", "json")
	var m bundle.Manifest
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &m) != nil || len(m.Images) != 2 || m.Images[0].Name != "docker.io/k8ssandra/cass-management-api:4.0.11" {
		t.Errorf("inspect: %+v", r)
	}

	damaged := filepath.Join(t.TempDir(), "damaged.airgap")
	flipped := append([]byte(nil), first...)
	flipped[len(flipped)/2] ^= 1
	if err := os.WriteFile(damaged, flipped, 0o644); err != nil {
		t.Fatal(err)
	}
	r = run(t, testDeps(), "", "bundle", "verify", damaged)
	if r.code != 1 || !strings.Contains(r.stderr, "\nError: "+damaged+": bundle ") || strings.Count(r.stderr, "Error:") != 1 {
		t.Errorf("verify of a damaged bundle: %+v", r)
	}

	t.Setenv(signingKeyEnv, "")
	r = run(t, testDeps(), "", "bundle", "build", "--images-dir", images, "--out", out)
	if r.code != 1 || !strings.Contains(r.stderr, "no signing key: pass --signing-key FILE or set MC_BUNDLE_SIGNING_KEY") {
		t.Errorf("build without a key: %+v", r)
	}
}

// TestBundleBuildPulls pulls from a registry on loopback, as a connected release build does
// from upstream.
func TestBundleBuildPulls(t *testing.T) {
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	ref := strings.TrimPrefix(srv.URL, "http://") + "/k8ssandra/medusa:0.24.0"
	img, err := random.Image(32<<10, 2)
	if err != nil {
		t.Fatal(err)
	}
	tag, _ := name.NewTag(ref)
	if err := remote.Write(tag, img); err != nil {
		t.Fatal(err)
	}
	digest, _ := img.Digest()

	images, out := filepath.Join(t.TempDir(), "images"), filepath.Join(t.TempDir(), "mc.airgap")
	list := filepath.Join(t.TempDir(), "images.txt")
	if err := os.WriteFile(list, []byte("# the database images\n"+ref+"@"+digest.String()+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := run(t, testDeps(), "", "bundle", "build", "--pull-list", list, "--images-dir", images, "--signing-key", developmentKey, "--out", out)
	if r.code != 0 || !strings.Contains(r.stdout, "1 images") {
		t.Fatalf("build: %+v", r)
	}
	r = run(t, testDeps(), "", "bundle", "inspect", out, "-o", "json")
	var m bundle.Manifest
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &m) != nil || len(m.Images) != 1 || m.Images[0].Name != ref || m.Images[0].Digest != digest.String() {
		t.Errorf("inspect: %+v", r)
	}

	if err := os.WriteFile(list, []byte(ref+"\nk8ssandra/medusa\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r = run(t, testDeps(), "", "bundle", "build", "--pull-list", list, "--images-dir", images, "--signing-key", developmentKey, "--out", out)
	if r.code != 1 || !strings.Contains(r.stderr, "--pull-list "+list+" line 2: image \"k8ssandra/medusa\": want NAME:TAG") {
		t.Errorf("a list with an untagged image: %+v", r)
	}
	// bundle pin resolves a tag alone against its registry, keeping comments; then the list builds.
	pinList := filepath.Join(t.TempDir(), "pin.txt")
	if err := os.WriteFile(pinList, []byte("# the database images\n"+ref+" # medusa\n"+ref+"@"+digest.String()+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r = run(t, testDeps(), "", "bundle", "pin", pinList)
	if r.code != 0 || !strings.Contains(r.stdout, "Pinned 1 images in "+pinList+":\n  "+ref+"@"+digest.String()) {
		t.Errorf("pin: %+v", r)
	}
	if got, _ := os.ReadFile(pinList); string(got) != "# the database images\n"+ref+"@"+digest.String()+" # medusa\n"+ref+"@"+digest.String()+"\n" {
		t.Errorf("pinned list:\n%s", got)
	}
	if r := run(t, testDeps(), "", "bundle", "pin", pinList); r.code != 0 || !strings.Contains(r.stdout, "is pinned already") {
		t.Errorf("pin again: %+v", r)
	}
	missing := strings.Replace(ref, "medusa", "nothing-here", 1)
	if err := os.WriteFile(pinList, []byte(missing+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := run(t, testDeps(), "", "bundle", "pin", pinList); r.code != 1 || !strings.Contains(r.stderr, pinList+" line 1: resolve "+missing) {
		t.Errorf("pin of an image the registry lacks: %+v", r)
	}
	if got, _ := os.ReadFile(pinList); string(got) != missing+"\n" {
		t.Errorf("a failed pin wrote the list: %q", got)
	}

	if err := os.WriteFile(list, []byte(ref+"@"+digest.String()+"\n"+ref+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadDir(images)
	r = run(t, testDeps(), "", "bundle", "build", "--pull-list", list, "--images-dir", images, "--signing-key", developmentKey, "--out", out+".2")
	want := "--pull-list " + list + ": " + ref + " is not pinned: a release bundles images by digest only; write it as NAME:TAG@sha256:DIGEST"
	if r.code != 1 || !strings.Contains(r.stderr, want) || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("a list with a tag alone: %+v, want %q", r, want)
	}
	if after, _ := os.ReadDir(images); len(after) != len(before) {
		t.Errorf("a refused build pulled: %d images, was %d", len(after), len(before))
	}
	if _, err := os.Stat(out + ".2"); !os.IsNotExist(err) {
		t.Errorf("a refused build wrote %s: %v", out+".2", err)
	}
}
