// Package apiservertest starts real API servers for tests: etcd and kube-apiserver from the runtime
// payload (the very binaries install runs), on loopback, through controller-runtime's envtest.
// Nothing is downloaded: envtest only runs the binaries it is given.
package apiservertest

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/datastax/mission-control/internal/filelist"
	"github.com/datastax/mission-control/internal/testenv"
	"github.com/datastax/mission-control/runtime/payload"
)

// binaries are the payload files an API server needs, by their name in the payload.
var binaries = map[string]string{"bin/kube-apiserver": "kube-apiserver", "bin/etcd": "etcd"}

var (
	binOnce sync.Once
	binDir  string
	binErr  error
)

// Server is a running etcd and kube-apiserver.
type Server struct {
	// Config reaches the API server as a member of system:masters.
	Config *rest.Config
	env    *envtest.Environment
}

// Start starts an API server with the CRDs in crdDirs installed, and stops it when t ends. It
// skips t, or fails it under CI=true, when the runtime payload has not been built.
func Start(t testing.TB, crdDirs ...string) *Server {
	t.Helper()
	return StartN(t, 1, crdDirs...)[0]
}

// StartN starts n API servers at once (a control plane and a data plane take two), as Start.
func StartN(t testing.TB, n int, crdDirs ...string) []*Server {
	t.Helper()
	return startN(t, n, nil, crdDirs)
}

// StartWithArgs starts an API server, as Start, with these flags of kube-apiserver set too (e.g.
// oidc-issuer-url).
func StartWithArgs(t testing.TB, args map[string]string, crdDirs ...string) *Server {
	t.Helper()
	servers := startN(t, 1, args, crdDirs)
	if servers == nil {
		return nil
	}
	return servers[0]
}

func startN(t testing.TB, n int, args map[string]string, crdDirs []string) []*Server {
	t.Helper()
	binOnce.Do(func() { binDir, binErr = extractBinaries() })
	if errors.Is(binErr, fs.ErrNotExist) {
		testenv.Unmet(t, "needs kube-apiserver and etcd from the runtime payload: run make runtime (make test does)")
		return nil
	}
	if binErr != nil {
		t.Fatal(binErr)
	}
	servers := make([]*Server, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			env := &envtest.Environment{BinaryAssetsDirectory: binDir, CRDDirectoryPaths: crdDirs, ErrorIfCRDPathMissing: true}
			for k, v := range args {
				env.ControlPlane.GetAPIServer().Configure().Set(k, v)
			}
			cfg, err := env.Start()
			if err != nil {
				// Start can fail after etcd and the API server run (installing the CRDs, say):
				// stop them, or they outlive the test.
				errs[i] = errors.Join(fmt.Errorf("start an API server from %s: %w", binDir, err), env.Stop())
				return
			}
			servers[i] = &Server{Config: cfg, env: env}
		})
	}
	wg.Wait()
	for _, s := range servers {
		if s != nil {
			t.Cleanup(func() {
				if err := s.env.Stop(); err != nil {
					t.Errorf("stop the API server: %v", err)
				}
			})
		}
	}
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	return servers
}

// UserConfig reaches the API server as the named user, who holds no rights until the test
// binds it some: how a test checks that a component's RBAC is enough.
func (s *Server) UserConfig(t testing.TB, name string) *rest.Config {
	t.Helper()
	u, err := s.env.ControlPlane.AddUser(envtest.User{Name: name}, s.Config)
	if err != nil {
		t.Fatalf("add user %s: %v", name, err)
	}
	return u.Config()
}

// extractBinaries writes the payload's kube-apiserver and etcd into a cache directory named by
// the payload's digest, once per payload, and returns it.
func extractBinaries() (string, error) {
	payloadDir, err := findPayloadDir()
	if err != nil {
		return "", err
	}
	manifest, err := os.ReadFile(filepath.Join(payloadDir, "payload.json"))
	if err != nil {
		return "", err
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("find a cache directory: %w", err)
	}
	p, err := payload.New(nil, manifest)
	if err != nil {
		return "", fmt.Errorf("read the payload manifest: %w", err)
	}
	key := ""
	for _, f := range p.Manifest.Files {
		if _, ok := binaries[f.Path]; ok {
			key += f.SHA256[:8]
		}
	}
	if len(key) != 8*len(binaries) {
		return "", fmt.Errorf("the payload in %s lacks kube-apiserver or etcd", payloadDir)
	}
	dir := filepath.Join(cache, "mission-control", "apiserver-"+key)
	if _, err := os.Stat(filepath.Join(dir, "ready")); err == nil {
		return dir, nil
	}
	packed, err := os.ReadFile(filepath.Join(payloadDir, "payload.tar.zst"))
	if err != nil {
		return "", err
	}
	if p, err = payload.New(packed, manifest); err != nil {
		return "", fmt.Errorf("read the payload: %w", err)
	}
	// Test packages run in parallel: each extracts into a directory of its own and renames it into
	// place, so that none ever rewrites a binary another is running ("text file busy"), and an
	// interrupted extraction leaves only a temporary directory.
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), filepath.Base(dir)+".tmp-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp) // nothing left once renamed
	err = p.Extract(func(f filelist.File, data []byte) error {
		if name, ok := binaries[f.Path]; ok {
			return os.WriteFile(filepath.Join(tmp, name), data, 0o755)
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("extract the API server binaries: %w", err)
	}
	if err := os.WriteFile(filepath.Join(tmp, "ready"), nil, 0o644); err != nil {
		return "", err
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return "", err
	}
	err = os.Rename(tmp, dir)
	if err != nil {
		if _, statErr := os.Stat(filepath.Join(dir, "ready")); statErr == nil {
			return dir, nil // another package's extraction got there first
		}
		// A directory without "ready" is what an extraction of an older, in-place kind left.
		if rmErr := os.RemoveAll(dir); rmErr == nil {
			err = os.Rename(tmp, dir)
		}
	}
	if err != nil {
		return "", fmt.Errorf("put the API server binaries in place: %w", err)
	}
	return dir, nil
}

// findPayloadDir walks up from the test's directory to the module root's runtime/payload.
func findPayloadDir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "runtime", "payload"), nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the test's directory: %w", fs.ErrNotExist)
		}
		dir = parent
	}
}
