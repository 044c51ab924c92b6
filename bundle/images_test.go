package bundle

import (
	"os"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// TestImagesListCoversTheChart keeps images.txt, what release bundles carry, in step with the
// database images the chart configures and the Cassandra version of the docs' example.
func TestImagesListCoversTheChart(t *testing.T) {
	data, err := os.ReadFile("images.txt")
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, line := range strings.Split(string(data), "\n") {
		line, _, _ = strings.Cut(line, "#")
		if line = strings.TrimSpace(line); line != "" {
			known, _, err := ParseImageRef(line)
			if err != nil {
				t.Fatal(err)
			}
			listed = append(listed, ImageName(known))
		}
	}
	var values struct {
		DatabaseImages map[string]any `json:"databaseImages"`
	}
	if data, err = os.ReadFile("../charts/mission-control/values.yaml"); err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &values); err != nil {
		t.Fatal(err)
	}
	registry := values.DatabaseImages["registry"].(string)
	image := func(key, tag string) string {
		im := values.DatabaseImages[key].(map[string]any)
		if tag == "" {
			tag = im["tag"].(string)
		}
		return registry + "/" + im["repository"].(string) + "/" + im["name"].(string) + ":" + tag + str(im["suffix"])
	}
	var example struct {
		Spec struct {
			K8ssandra struct {
				Cassandra struct {
					ServerVersion string `json:"serverVersion"`
				} `json:"cassandra"`
			} `json:"k8ssandra"`
		} `json:"spec"`
	}
	if data, err = os.ReadFile("../examples/missioncontrolcluster.yaml"); err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &example); err != nil || example.Spec.K8ssandra.Cassandra.ServerVersion == "" {
		t.Fatalf("the docs example names no serverVersion: %v", err)
	}
	want := []string{image("systemLogger", ""), image("configBuilder", ""), image("k8ssandraClient", ""), image("medusa", ""), image("reaper", ""),
		image("cassandra", example.Spec.K8ssandra.Cassandra.ServerVersion)}
	for _, w := range want {
		if !slices.Contains(listed, w) {
			t.Errorf("images.txt does not list %s, which the chart deploys", w)
		}
	}
}

func str(v any) string {
	s, _ := v.(string)
	return s
}
