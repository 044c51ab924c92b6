// Package vmtests checks the vm-tests definitions that cannot run here (no virtualisation, no
// internet): the Lima templates and the Vagrantfile are valid and describe the matrix and the
// VM shape the README promises, and every suite the runner, the README and the suites name exists.
package vmtests

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// limaTemplate is the part of Lima's template schema the templates use; strict parsing refuses
// any other (misspelt) field.
type limaTemplate struct {
	MinimumLimaVersion string `json:"minimumLimaVersion"`
	Images             []struct {
		Location string `json:"location"`
		Arch     string `json:"arch"`
	} `json:"images"`
	CPUs       int    `json:"cpus"`
	Memory     string `json:"memory"`
	Disk       string `json:"disk"`
	Mounts     []any  `json:"mounts"`
	Containerd struct {
		System bool `json:"system"`
		User   bool `json:"user"`
	} `json:"containerd"`
	Networks []struct {
		Lima string `json:"lima"`
	} `json:"networks"`
	PortForwards []struct {
		GuestIP        string `json:"guestIP"`
		GuestPortRange []int  `json:"guestPortRange"`
		Ignore         bool   `json:"ignore"`
	} `json:"portForwards"`
}

// runnerDistros is the matrix vm-tests/run.sh offers.
func runnerDistros(t *testing.T) []string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^distros_all=\(([^)]*)\)`).FindSubmatch(readFile(t, "run.sh"))
	if m == nil {
		t.Fatal("run.sh has no distros_all=(...)")
	}
	return strings.Fields(string(m[1]))
}

func TestMatrix(t *testing.T) {
	want := []string{"ubuntu-22.04", "ubuntu-24.04", "debian-12", "rocky-9"}
	if got := runnerDistros(t); !slices.Equal(got, want) {
		t.Errorf("run.sh's distributions are %v, want the matrix %v", got, want)
	}
	templates, _ := filepath.Glob("lima/*.yaml")
	var names []string
	for _, p := range templates {
		names = append(names, strings.TrimSuffix(filepath.Base(p), ".yaml"))
	}
	slices.Sort(names)
	sorted := slices.Sorted(slices.Values(want))
	if !slices.Equal(names, sorted) {
		t.Errorf("Lima templates %v, want one per distribution %v", names, sorted)
	}
	boxes := regexp.MustCompile(`(?m)^\s+"([a-z0-9.-]+)" => "[^"]+",$`).FindAllSubmatch(readFile(t, "Vagrantfile"), -1)
	var vagrant []string
	for _, b := range boxes {
		vagrant = append(vagrant, string(b[1]))
	}
	if !slices.Equal(vagrant, append(want, "cp-east", "dp-west")) {
		t.Errorf("Vagrantfile's boxes and hosts are %v, want %v and cp-east, dp-west", vagrant, want)
	}
}

func TestLimaTemplates(t *testing.T) {
	templates, _ := filepath.Glob("lima/*.yaml")
	for _, p := range templates {
		t.Run(filepath.Base(p), func(t *testing.T) {
			var tmpl limaTemplate
			if err := yaml.UnmarshalStrict(readFile(t, p), &tmpl); err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			var arches []string
			for _, img := range tmpl.Images {
				arches = append(arches, img.Arch)
				if !strings.HasPrefix(img.Location, "https://") {
					t.Errorf("image %q is not fetched over https", img.Location)
				}
			}
			if !slices.Equal(arches, []string{"x86_64", "aarch64"}) {
				t.Errorf("images for %v, want x86_64 and aarch64", arches)
			}
			if tmpl.CPUs != 2 || !slices.Contains([]string{"4GiB", "6GiB", "8GiB"}, tmpl.Memory) {
				t.Errorf("%d CPUs and %s, want 2 CPUs and 4 to 8 GiB", tmpl.CPUs, tmpl.Memory)
			}
			if tmpl.Mounts == nil || len(tmpl.Mounts) != 0 || tmpl.Containerd.System || tmpl.Containerd.User {
				t.Error("the template must share nothing with the driver (mounts: []) and run no containerd of Lima's")
			}
			if len(tmpl.Networks) != 1 || tmpl.Networks[0].Lima != "user-v2" {
				t.Errorf("networks %+v, want user-v2: the VMs of a host pair reach each other there", tmpl.Networks)
			}
			if len(tmpl.PortForwards) != 1 || !tmpl.PortForwards[0].Ignore || !slices.Equal(tmpl.PortForwards[0].GuestPortRange, []int{1, 65535}) {
				t.Errorf("portForwards %+v, want every guest port ignored", tmpl.PortForwards)
			}
		})
	}
}

func TestVagrantfile(t *testing.T) {
	ruby, err := exec.LookPath("ruby")
	if err != nil {
		t.Fatal("ruby checks the Vagrantfile's syntax: apt-get install ruby (.ci/run does)")
	}
	if out, err := exec.Command(ruby, "-c", "Vagrantfile").CombinedOutput(); err != nil {
		t.Fatalf("ruby -c Vagrantfile: %v\n%s", err, out)
	}
	v := string(readFile(t, "Vagrantfile"))
	for _, want := range []string{"CPUS = 2\n", "MEMORY_MIB = 8192\n", `"cp-east" => "192.168.56.10"`, `"dp-west" => "192.168.56.11"`,
		`machine.vm.network "private_network", ip: address`, `config.vm.synced_folder ".", "/vagrant", disabled: true`} {
		if !strings.Contains(v, want) {
			t.Errorf("Vagrantfile lacks %q", want)
		}
	}
	// The suites take node addresses on the network the Vagrantfile puts the hosts on.
	if !strings.Contains(string(readFile(t, "run.sh")), "MC_PRIVATE_NET=192.168.56.0/24") {
		t.Error("run.sh does not give the suites the Vagrantfile's private network 192.168.56.0/24")
	}
}

// TestSuites: every suite parses, loads the helpers, and says what it needs; host-pair suites
// skip themselves with the reason on one host; every file a suite reads from the repository
// exists; the README describes exactly the suites there are.
func TestSuites(t *testing.T) {
	suites, _ := filepath.Glob("suites/*.bats")
	if len(suites) < 11 {
		t.Fatalf("only %d suites: %v", len(suites), suites)
	}
	readme := string(readFile(t, "../README.md"))
	described := map[string]bool{}
	for _, m := range regexp.MustCompile(`\(vm-tests/suites/([a-z-]+)\.bats\)`).FindAllStringSubmatch(readme, -1) {
		described[m[1]] = true
	}
	bats, err := exec.LookPath("bats")
	if err != nil {
		t.Fatal("bats parses the suites: apt-get install bats bats-support bats-assert (.ci/run does)")
	}
	sharedOrder := map[string]string{}
	for _, p := range suites {
		name := strings.TrimSuffix(filepath.Base(p), ".bats")
		src := string(readFile(t, p))
		if out, err := exec.Command(bats, "--count", p).CombinedOutput(); err != nil || strings.TrimSpace(string(out)) == "0" {
			t.Errorf("%s does not parse, or has no test: %v\n%s", p, err, out)
		}
		if !strings.Contains(src, "\nload ../lib/suite\n") {
			t.Errorf("%s does not load ../lib/suite", p)
		}
		hosts := regexp.MustCompile(`(?m)^SUITE_HOSTS="([a-z0-9 -]+)"`).FindStringSubmatch(src)
		usesSecond := strings.Contains(src, `"$DP"`) || strings.Contains(src, "${HOSTS[1]")
		if several := hosts != nil && len(strings.Fields(hosts[1])) >= 2; several != usesSecond {
			t.Errorf("%s: a suite that uses a second host ($DP, ${HOSTS[1]}), and only such a suite, names its hosts in SUITE_HOSTS, e.g. \"cp-east dp-west\"", p)
		}
		if m := regexp.MustCompile(`(?m)^SUITE_SHARED=pair:([0-9]+)`).FindStringSubmatch(src); m != nil {
			// run.sh runs these on one pair: a second install on other ranges would fail there.
			if strings.Contains(src, "install_platform ") {
				t.Errorf("%s runs on the shared pair (SUITE_SHARED) and installs with install_platform: use install_shared", p)
			}
			if other, taken := sharedOrder[m[1]]; taken {
				t.Errorf("%s and %s both run at SUITE_SHARED=pair:%s: give each its own place", other, p, m[1])
			}
			sharedOrder[m[1]] = p
		}
		for _, m := range regexp.MustCompile(`\$MC_REPO/([^"]+)"`).FindAllStringSubmatch(src, -1) {
			if _, err := os.Stat(filepath.Join("..", m[1])); err != nil {
				t.Errorf("%s reads %s: %v", p, m[1], err)
			}
		}
		if !described[name] {
			t.Errorf("the README's vm-tests table does not describe suite %s", name)
		}
		delete(described, name)
	}
	for name := range described {
		t.Errorf("the README describes suite %s, which does not exist", name)
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
}
