package installer

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/datastax/mission-control/bundle"
	"github.com/datastax/mission-control/bundle/bundletest"
	"github.com/datastax/mission-control/internal/datadir"
	"github.com/datastax/mission-control/internal/filelist"
	"github.com/datastax/mission-control/internal/license"
	"github.com/datastax/mission-control/internal/releasekey"
)

// airgapBundle writes a bundle of two images for version and arch, signed with key (nil: the
// development release key this test build trusts), and returns its path.
func airgapBundle(t *testing.T, version, arch string, key ed25519.PrivateKey, seed ...string) string {
	t.Helper()
	if key == nil {
		pem, err := os.ReadFile("../examples/development-license.key")
		if err != nil {
			t.Fatal(err)
		}
		if key, err = releasekey.ParsePrivate(pem); err != nil {
			t.Fatal(err)
		}
	}
	images := t.TempDir()
	for file, ref := range map[string]string{"cassandra.tar": "docker.io/k8ssandra/cass-management-api:4.0.11-ubi", "medusa.tar": "docker.io/k8ssandra/medusa:0.24.0"} {
		if err := os.WriteFile(filepath.Join(images, file), bundletest.Image(ref, strings.Repeat(file+strings.Join(seed, ""), 5000)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if _, err := bundle.Build(context.Background(), &buf, bundle.BuildOptions{ImagesDir: images, Version: version, Arch: arch, Created: testNow, Key: key}); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "mission-control-"+version+".airgap")
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

func airgapFixture(t *testing.T, bundlePath string) *fixture {
	f := newFixture(t)
	f.cfg.LicenseFile = writeLicense(t, func(s *license.Spec) { s.Entitlements.Airgap = true })
	f.cfg.AirgapBundle = bundlePath
	return f
}

func TestAirgapInstallPlan(t *testing.T) {
	path := airgapBundle(t, "v0.0.0-test", runtime.GOARCH, nil)
	f := airgapFixture(t, path)
	results, err := f.install(t)
	if err != nil {
		t.Fatal(err)
	}
	got := outcomes(results)
	for _, want := range []string{"host-preflights=ok verify-airgap-bundle=ok prepare-data-dir=ok", "stage-runtime=ok stage-airgap-images=ok write-runtime-config=ok"} {
		if !strings.Contains(got, want) {
			t.Errorf("outcomes:\n%s\nwant them to contain %s", got, want)
		}
	}
	data, _ := os.ReadFile(path)
	var m bundle.Manifest
	m, err = bundle.Verify(context.Background(), bytes.NewReader(data), releasekey.Trusted(), bundle.Handlers{})
	if err != nil {
		t.Fatal(err)
	}
	var staged []string
	for _, op := range f.rec.Ops() {
		if op.Step != "stage-airgap-images" || strings.HasSuffix(op.Path, datadir.JournalFile) {
			continue
		}
		staged = append(staged, strings.TrimPrefix(op.Path, f.cfg.DataDir))
		i := slices.IndexFunc(m.Files, func(file filelist.File) bool { return "bundle-"+filepath.Base(file.Path) == filepath.Base(op.Path) })
		if op.Kind != "write" || i < 0 || op.SHA256 != m.Files[i].SHA256 || op.Size != int(m.Files[i].Size) {
			t.Errorf("staged %+v, not a bundle file as its manifest has it", op)
		}
	}
	if want := []string{"/k0s/images/bundle-cassandra.tar", "/k0s/images/bundle-medusa.tar"}; !slices.Equal(staged, want) {
		t.Errorf("staged %v, want %v", staged, want)
	}
	if state, err := LoadState(f.rec, f.cfg.Paths()); err != nil || !state.Airgap {
		t.Errorf("state %+v, %v: want it to record the air-gapped install", state, err)
	}

	// A re-run against an install made without a bundle is refused: its images came from elsewhere.
	f.cfg.AirgapBundle = ""
	if _, err := f.install(t); err == nil || !strings.Contains(err.Error(), "image source an air-gap bundle (requested the binary and registries)") {
		t.Errorf("install without the bundle over an air-gapped one: %v", err)
	}
}

func TestAirgapBundleRefusals(t *testing.T) {
	good := airgapBundle(t, "v0.0.0-test", runtime.GOARCH, nil)
	data, _ := os.ReadFile(good)
	write := func(data []byte) string {
		p := filepath.Join(t.TempDir(), "damaged.airgap")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	flipped := bytes.Clone(data)
	flipped[len(flipped)/2] ^= 0x40
	_, otherKey, _ := ed25519.GenerateKey(rand.Reader)
	for _, tc := range []struct {
		name, path, want string
		disk             uint64
	}{
		{"missing", "/nonexistent/mc.airgap", "--airgap-bundle /nonexistent/mc.airgap does not exist: pass the path of mission-control-v0.0.0-test.airgap", 0},
		{"a directory", t.TempDir(), "is a directory: pass the bundle file", 0},
		{"other version", airgapBundle(t, "v9.9.9", runtime.GOARCH, nil), "it is the bundle of mission-control v9.9.9, and this is v0.0.0-test: use mission-control-v0.0.0-test.airgap", 0},
		{"other arch", airgapBundle(t, "v0.0.0-test", "s390x", nil), "it is the bundle for s390x hosts", 0},
		{"other key", airgapBundle(t, "v0.0.0-test", runtime.GOARCH, otherKey), "bundle signature does not verify with this build's release key", 0},
		{"byte flipped", write(flipped), "damaged.airgap: bundle ", 0},
		{"truncated", write(data[:len(data)*3/4]), "bundle is truncated", 0},
		{"no room", good, "disk: 10.0 GiB free at /var/lib; the data dir " + "$DATA with the air-gap bundle's images twice and 6.0 GiB for volumes (--volume-space) needs at least 16.0 GiB", 10 << 30},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := airgapFixture(t, tc.path)
			if tc.disk > 0 {
				f.facts.DiskFreeBytes, f.facts.DiskTotalBytes = tc.disk, tc.disk
			}
			_, err := f.install(t)
			// host-preflights reads the signed manifest (for the images' size), verify-airgap-bundle the rest.
			want := strings.ReplaceAll(tc.want, "$DATA", f.cfg.DataDir)
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("error = %v\nwant it to contain %s", err, want)
			}
			if ops := f.rec.Ops(); len(ops) > 0 {
				t.Fatalf("changed the host: %v", ops)
			}
		})
	}
}

// TestAirgapStagingRechecks: a bundle changed after it was verified is caught while it is
// staged, and no image that does not match is put in place.
func TestAirgapStagingRechecks(t *testing.T) {
	path := airgapBundle(t, "v0.0.0-test", runtime.GOARCH, nil)
	good, _ := os.ReadFile(path)
	verified, err := bundle.Verify(context.Background(), bytes.NewReader(good), releasekey.Trusted(), bundle.Handlers{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		bundle []byte
		want   string
	}{
		{"another bundle", mustRead(t, airgapBundle(t, "v0.0.0-test", runtime.GOARCH, nil, "other images")), "it changed since it was verified"},
		{"image replaced", bundletest.Rewrite(t, good, func(n string, d []byte) (string, []byte) {
			if n == "images/medusa.tar" {
				d = bytes.Clone(d)
				d[len(d)/2] ^= 1
			}
			return n, d
		}), "bundle entry images/medusa.tar changed since it was verified"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := airgapFixture(t, path)
			sc := newStepContext(f.cfg, f.env(f.rec))
			sc.Bundle = &verified
			ctx := context.Background()
			if err := f.rec.MkdirAll(ctx, sc.Paths.ImagesDir(), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, tc.bundle, 0o644); err != nil { // swapped after verification
				t.Fatal(err)
			}
			err := stageAirgapImages().Run(ctx, sc)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want %s", err, tc.want)
			}
			for _, op := range f.rec.Ops() {
				if strings.Contains(op.Path, "medusa") {
					t.Errorf("the changed image was put in place: %+v", op)
				}
			}
		})
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
