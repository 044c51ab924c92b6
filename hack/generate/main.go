// Command generate regenerates what is derived from Go types: the deepcopy methods of the
// mission-control API and every CRD the chart installs, from the pinned operator modules. It
// runs controller-gen (its path is the first argument) in each module. make generate runs it;
// make lint checks its output is committed.
package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"
)

// source is a module whose API packages CRDs are generated from.
type source struct {
	dir, module, paths, options string
	// crds are the CRD files to keep: controller-gen also emits types the operator no longer serves.
	crds []string
	// remove are JSON-pointer-like paths deleted from a CRD's schema, as the operator's own
	// kustomization does: fields whose generated schema the API server cannot enforce.
	remove map[string][]string
}

const podSpec = "/spec/versions/0/schema/openAPIV3Schema/properties/spec/properties/podTemplateSpec/properties/spec/properties"

var sources = []source{
	{dir: ".", module: "github.com/datastax/mission-control", paths: "./operators/...", options: "crd",
		crds: []string{"missioncontrol.datastax.com_missioncontrolclusters.yaml"}},
	{dir: "hack/operators/cass", module: "github.com/k8ssandra/cass-operator", paths: "github.com/k8ssandra/cass-operator/apis/...",
		options: "crd:generateEmbeddedObjectMeta=true",
		crds:    []string{"cassandra.datastax.com_cassandradatacenters.yaml", "control.k8ssandra.io_cassandratasks.yaml", "control.k8ssandra.io_scheduledtasks.yaml"},
		remove: map[string][]string{"cassandra.datastax.com_cassandradatacenters.yaml": {
			// The server config's schema depends on the server version: kept, unvalidated, by the
			// spec's x-kubernetes-preserve-unknown-fields.
			"/spec/versions/0/schema/openAPIV3Schema/properties/spec/properties/config",
			// List-map keys users routinely omit (ports' protocol) would make valid specs fail.
			podSpec + "/containers/items/properties/ports/x-kubernetes-list-map-keys",
			podSpec + "/containers/items/properties/ports/x-kubernetes-list-type",
			podSpec + "/initContainers/items/properties/ports/x-kubernetes-list-map-keys",
			podSpec + "/initContainers/items/properties/ports/x-kubernetes-list-type",
			podSpec + "/topologySpreadConstraints/x-kubernetes-list-map-keys",
			podSpec + "/topologySpreadConstraints/x-kubernetes-list-type",
		}}},
	{dir: "hack/operators/k8ssandra", module: "github.com/k8ssandra/k8ssandra-operator", paths: "github.com/k8ssandra/k8ssandra-operator/apis/...",
		options: "crd",
		crds: []string{
			"k8ssandra.io_k8ssandraclusters.yaml", "config.k8ssandra.io_clientconfigs.yaml", "replication.k8ssandra.io_replicatedsecrets.yaml",
			"stargate.k8ssandra.io_stargates.yaml", "reaper.k8ssandra.io_reapers.yaml", "control.k8ssandra.io_k8ssandratasks.yaml",
			"medusa.k8ssandra.io_medusatasks.yaml", "medusa.k8ssandra.io_medusabackups.yaml", "medusa.k8ssandra.io_medusabackupjobs.yaml",
			"medusa.k8ssandra.io_medusarestorejobs.yaml", "medusa.k8ssandra.io_medusabackupschedules.yaml", "medusa.k8ssandra.io_medusaconfigurations.yaml",
		}},
}

const out = "charts/mission-control/crds"

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: generate CONTROLLER_GEN")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "generate:", err)
		os.Exit(1)
	}
}

func run(controllerGen string) error {
	gen, err := filepath.Abs(controllerGen)
	if err != nil {
		return err
	}
	if err := controllerGenIn(gen, ".", "object", "paths=./operators/..."); err != nil {
		return err
	}
	if err := os.RemoveAll(out); err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	for _, s := range sources {
		tmp, err := os.MkdirTemp("", "crds-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		if err := controllerGenIn(gen, s.dir, s.options, "paths="+s.paths, "output:crd:dir="+tmp); err != nil {
			return err
		}
		version, err := moduleVersion(s)
		if err != nil {
			return err
		}
		for _, name := range s.crds {
			if err := writeCRD(filepath.Join(tmp, name), filepath.Join(out, name), s.module+"@"+version, s.remove[name]); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
		}
	}
	return nil
}

func controllerGenIn(gen, dir string, args ...string) error {
	cmd := exec.Command(gen, args...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("controller-gen %s in %s: %w", strings.Join(args, " "), dir, err)
	}
	return nil
}

// moduleVersion is the version of the module the CRDs come from, as its build module pins it.
func moduleVersion(s source) (string, error) {
	if s.dir == "." {
		return "this repository", nil
	}
	cmd := exec.Command("go", "list", "-m", "-f", "{{if .Replace}}{{.Replace.Version}}{{else}}{{.Version}}{{end}}", s.module)
	cmd.Dir = s.dir
	v, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("version of %s: %w", s.module, err)
	}
	return strings.TrimSpace(string(v)), nil
}

func writeCRD(from, to, origin string, remove []string) error {
	data, err := os.ReadFile(from)
	if err != nil {
		return fmt.Errorf("controller-gen did not generate it: %w", err)
	}
	if len(remove) > 0 {
		var crd map[string]any
		if err := yaml.Unmarshal(data, &crd); err != nil {
			return err
		}
		for _, p := range remove {
			if err := deletePath(crd, p); err != nil {
				return err
			}
		}
		if data, err = yaml.Marshal(crd); err != nil {
			return err
		}
	}
	header := fmt.Sprintf("# Generated by make generate from %s. Do not edit.\n", origin)
	return os.WriteFile(to, append([]byte(header), data...), 0o644)
}

// deletePath removes the value at a /-separated path of map keys and list indexes.
func deletePath(obj map[string]any, p string) error {
	parts := strings.Split(strings.TrimPrefix(p, "/"), "/")
	var cur any = obj
	for i, part := range parts {
		last := i == len(parts)-1
		switch node := cur.(type) {
		case map[string]any:
			if _, ok := node[part]; !ok {
				return fmt.Errorf("path %s: %q not found", p, part)
			}
			if last {
				delete(node, part)
				return nil
			}
			cur = node[part]
		case []any:
			idx, err := strconv.Atoi(part)
			if err != nil || idx < 0 || idx >= len(node) {
				return fmt.Errorf("path %s: index %q out of range", p, part)
			}
			cur = node[idx]
		default:
			return fmt.Errorf("path %s: %q is not a map or list", p, part)
		}
	}
	return nil
}
