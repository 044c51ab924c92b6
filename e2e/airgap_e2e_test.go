//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/datastax/mission-control/bundle/bundletest"
	"github.com/datastax/mission-control/internal/host"
	"github.com/datastax/mission-control/internal/releasekey"
	"github.com/datastax/mission-control/internal/testenv"
	"github.com/datastax/mission-control/internal/testhost"
)

const (
	airgapNode = "172.31.254.2/24"
	airgapCIDR = "10.40.0.0/16"
	signingKey = "../examples/development-license.key"
)

// TestAirgap builds a bundle and has install refuse each kind of damaged or foreign bundle, inside
// a network namespace with no route off the machine (a dummy-like interface carries the node
// address and the default route), without changing the host. The install from the good bundle,
// a pod of an image only it carries, and the reset after it are the vm-tests airgap suite's: one
// real air-gapped install per make test is enough.
func TestAirgap(t *testing.T) {
	testenv.Require(t, testenv.E2E, testenv.Root)
	binary(t)
	if exists(dataDir) {
		t.Fatalf("%s exists: this test installs there and will not touch an existing install; reset it first", dataDir)
	}
	images := t.TempDir()
	hello, err := os.ReadFile(helloImage(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(images, "hello.tar"), hello, 0o644); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	good := filepath.Join(dir, "mission-control.airgap")
	if r := mc(t, "bundle", "build", "--images-dir", images, "--signing-key", signingKey, "--out", good); r.code != 0 {
		t.Fatalf("bundle build: %s", r)
	}
	tampered := tamperedBundles(t, dir, images, good)

	netns = isolatedNetns(t)
	t.Cleanup(func() { netns = "" })
	before := takeSnapshot(t)
	install := func(bundle string) []string {
		return []string{"install", "--license", license, "--airgap-bundle", bundle, "--cidr", airgapCIDR, "--network-interface", testhost.IsolatedLink, "--yes"}
	}
	t.Cleanup(func() {
		if exists(dataDir) {
			t.Logf("cleaning up: %s", mc(t, "reset", "--yes"))
		}
	})

	for _, tc := range tampered {
		r := mc(t, install(tc.path)...)
		if r.code != 1 || !strings.Contains(r.stderr, tc.want) || strings.Count(r.stderr, "Error:") != 1 {
			t.Errorf("install from a bundle %s: want exit 1 and one error saying %q; got %s", tc.name, tc.want, r)
		}
		if exists(dataDir) || exists("/etc/k0s") {
			t.Fatalf("install from a bundle %s left %s or /etc/k0s behind", tc.name, dataDir)
		}
	}
	if diff := before.Diff(takeSnapshot(t)); len(diff) > 0 {
		t.Fatalf("refused installs changed the host:\n%s", strings.Join(diff, "\n"))
	}
}

type tamperedBundle struct{ name, path, want string }

// tamperedBundles writes, beside good, a bundle for each way one can be wrong, with the error
// install must give for it.
func tamperedBundles(t *testing.T, dir, images, good string) []tamperedBundle {
	t.Helper()
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, content []byte) string {
		p := filepath.Join(dir, name+".airgap")
		if err := os.WriteFile(p, content, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	otherVersion := filepath.Join(dir, "other-version.airgap")
	if r := mc(t, "bundle", "build", "--images-dir", images, "--signing-key", signingKey, "--version", "v0.0.1-other", "--out", otherVersion); r.code != 0 {
		t.Fatalf("bundle build: %s", r)
	}
	_, key, err := releasekey.Generate()
	if err != nil {
		t.Fatal(err)
	}
	pem, _ := releasekey.MarshalPrivate(key)
	keyFile := write("other", pem)
	otherKey := filepath.Join(dir, "other-key.airgap")
	if r := mc(t, "bundle", "build", "--images-dir", images, "--signing-key", keyFile, "--out", otherKey); r.code != 0 {
		t.Fatalf("bundle build: %s", r)
	}
	flipped := bytes.Clone(data)
	flipped[len(flipped)/2] ^= 0x20
	return []tamperedBundle{
		{"with one byte flipped", write("flipped", flipped), "Error: verify-airgap-bundle: --airgap-bundle " + dir + "/flipped.airgap: bundle "},
		{"with an image replaced", write("replaced", bundletest.Rewrite(t, data, func(n string, d []byte) (string, []byte) {
			if n == "images/hello.tar" {
				d = append(bytes.Clone(d), make([]byte, 512)...) // a tar with one more (empty) block
			}
			return n, d
		})), "bundle entry images/hello.tar does not match its manifest"},
		{"with its manifest edited", write("edited", bundletest.Rewrite(t, data, func(n string, d []byte) (string, []byte) {
			if n == "manifest.json" {
				d = bytes.Replace(d, []byte(`"arch"`), []byte(`"arch" `), 1)
			}
			return n, d
		})), "bundle signature does not verify with this build's release key"},
		{"of another version", otherVersion, "it is the bundle of mission-control v0.0.1-other"},
		{"signed by another key", otherKey, "bundle signature does not verify with this build's release key"},
		{"truncated", write("truncated", data[:len(data)/2]), "bundle is truncated"},
		{"that is missing", filepath.Join(dir, "absent.airgap"), "absent.airgap does not exist"},
	}
}

// isolatedNetns makes a network namespace with no route off the machine and returns its path.
// It goes when the test ends and nothing else runs in it.
func isolatedNetns(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pid, err := testhost.Isolate(ctx, airgapNode)
	if err != nil {
		t.Fatal(err)
	}
	recordHolder(t, pid)
	t.Cleanup(func() {
		if err := (host.System{}).Signal(within(t, time.Minute), pid, syscall.SIGKILL); err != nil {
			t.Error(err)
		}
	})
	return testhost.NetnsOf(pid)
}
