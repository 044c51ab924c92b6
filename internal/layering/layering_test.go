package layering

import (
	"go/build"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/datastax/mission-control"

// layers are the module's packages from the bottom up. A package may import packages of lower
// layers only: a leaf imports nothing of ours, a domain package no command tree, and so on. A new
// package gets its place here (and in README.md's picture) or this test fails.
var layers = [][]string{
	// Leaves: the host seam, PKI, the release key, check results, progress, the version, the
	// data-dir layout, Kubernetes client helpers, the contract between clusters, network planning,
	// and test support that needs nothing of ours.
	{"internal/host", "internal/pki", "internal/releasekey", "internal/check", "internal/progress", "internal/version",
		"internal/datadir", "internal/kube", "internal/contract", "internal/network", "internal/filelist",
		"internal/golden", "internal/testenv", "internal/layering", "internal/pemtest", "supportbundle/mask", "web",
		"operators/missioncontrol/api/v1beta1"},
	// Foundations built on them: licenses, troubleshoot specs, the CLI helpers, the volumes'
	// layout, the runtime, the payload format, and their test support.
	{"internal/license", "internal/tsspec", "internal/cli", "internal/host/hosttest", "internal/testhost", "web/webtest",
		"internal/localvolume", "runtime/payload", "runtime/k0s"},
	{"internal/license/licensetest", "internal/cli/clitest", "runtime/apiservertest", "runtime/payload/payloadtest", "runtime/k0s/jointest", "bundle"},
	// Domain packages.
	{"charts", "bundle/bundletest", "installer/preflight", "operators/missioncontrol", "operators/peering", "registration"},
	{"installer", "installer/preflight/hostpreflight"},
	{"supportbundle", "installer/preflight/preflighttest", "api"},
	{"api/apitest"},
	// One command tree per binary, beside its main.
	{"cmd/mission-control/commands", "cmd/mcctl/commands", "cmd/mclicense/commands"},
	// Mains, build tools, and tests' own programs.
	{"cmd/mission-control", "cmd/mcctl", "cmd/mclicense", "cmd/mission-control-operator", "cmd/mission-control-api", "cmd/volume-helper", "cmd/pod-network-peering",
		"hack/generate", "hack/imagebuild", "hack/payload", "hack/runtime/pause", "hack/testhost", "e2e/hello", "vm-tests"},
}

// floors are the module's top-level folders from the bottom up: a package may import packages of
// its own folder and of folders on lower floors only, so that no folder holds packages both below
// and above another. internal/ is the ground floor (foundations), cmd/ the roof (the command
// trees beside their mains); tests and tools stand on top.
var floors = [][]string{
	{"internal"},
	{"runtime", "bundle"},
	{"charts", "web"},
	{"installer", "registration", "operators"},
	{"supportbundle", "api"},
	{"cmd"},
	{"e2e", "hack", "vm-tests"},
}

func folderOf(pkg string) string {
	folder, _, _ := strings.Cut(pkg, "/")
	return folder
}

func floorOf(folder string) int {
	for i, f := range floors {
		if slices.Contains(f, folder) {
			return i
		}
	}
	return -1
}

func layerOf(pkg string) int {
	for i, l := range layers {
		if slices.Contains(l, pkg) {
			return i
		}
	}
	return -1
}

// packages maps each package of the module (as a path relative to it) to the packages of the
// module its non-test files import.
func packages(t *testing.T) map[string][]string {
	t.Helper()
	root := filepath.Join("..", "..")
	out := map[string][]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		if path != root {
			if strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "bin" {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
				return filepath.SkipDir // a module of its own (hack/runtime/*, hack/operators/*, hack/tools)
			}
		}
		p, err := build.ImportDir(path, 0)
		if err != nil {
			if _, none := err.(*build.NoGoError); none {
				return nil
			}
			return err
		}
		rel, _ := filepath.Rel(root, path)
		var ours []string
		for _, imp := range p.Imports {
			if dep, ok := strings.CutPrefix(imp, module+"/"); ok {
				ours = append(ours, dep)
			}
		}
		out[filepath.ToSlash(rel)] = ours
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestPackagesImportOnlyLowerLayers(t *testing.T) {
	pkgs := packages(t)
	if len(pkgs) < 40 {
		t.Fatalf("found only %d packages: the walk is broken", len(pkgs))
	}
	for pkg, imports := range pkgs {
		layer := layerOf(pkg)
		if layer < 0 {
			t.Errorf("package %s has no layer: give it one in layers (and README.md's Architecture picture)", pkg)
			continue
		}
		for _, dep := range imports {
			if l := layerOf(dep); l >= layer {
				t.Errorf("%s (layer %d) imports %s (layer %d): a package may import lower layers only", pkg, layer, dep, l)
			}
		}
	}
	for _, l := range layers {
		for _, pkg := range l {
			if _, ok := pkgs[pkg]; !ok {
				t.Errorf("layers names %s, which is not a package of the module", pkg)
			}
		}
	}
}

func TestFoldersImportOnlyLowerFloors(t *testing.T) {
	for pkg, imports := range packages(t) {
		folder := folderOf(pkg)
		floor := floorOf(folder)
		if floor < 0 {
			t.Errorf("folder %s/ (of %s) has no floor: give it one in floors (and README.md's Architecture picture)", folder, pkg)
			continue
		}
		for _, dep := range imports {
			if depFolder := folderOf(dep); depFolder != folder && floorOf(depFolder) >= floor {
				t.Errorf("%s (folder %s/, floor %d) imports %s (folder %s/, floor %d): a folder may import its own and lower floors only",
					pkg, folder, floor, dep, depFolder, floorOf(depFolder))
			}
		}
	}
}

// Each binary links only what it needs: the vendor's license tool no Kubernetes client; mcctl
// neither Helm, troubleshoot, the image registry client nor the operator (whose package
// registers its metrics on import); the operator nothing of the installer.
func TestBinariesLinkOnlyWhatTheyNeed(t *testing.T) {
	heavy := []string{"helm.sh/helm", "github.com/replicatedhq/troubleshoot", "github.com/google/go-containerregistry", "github.com/k0sproject/k0s"}
	for cmd, forbidden := range map[string][]string{
		"./cmd/mclicense":                slices.Concat(heavy, []string{"sigs.k8s.io/controller-runtime", "k8s.io/client-go"}),
		"./cmd/mcctl":                    slices.Concat(heavy, []string{module + "/operators/missioncontrol"}),
		"./cmd/mission-control-operator": slices.Concat(heavy, []string{module + "/installer"}),
	} {
		out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", filepath.Join("..", "..", cmd)).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", cmd, err, out)
		}
		for dep := range strings.SplitSeq(string(out), "\n") {
			for _, f := range forbidden {
				if dep == f || strings.HasPrefix(dep, f+"/") {
					t.Errorf("%s links %s", cmd, dep)
				}
			}
		}
	}
}
