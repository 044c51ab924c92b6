package api

import (
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// TestOpenAPIMatchesTheServer keeps openapi.json true: it documents exactly the operations the
// server routes, and each schema has exactly the JSON fields of the Go type of its name.
func TestOpenAPIMatchesTheServer(t *testing.T) {
	var doc struct {
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Schemas map[string]struct {
				Properties map[string]json.RawMessage `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(OpenAPI, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	var documented, served []string
	for path, ops := range doc.Paths {
		for method := range ops {
			if method != "parameters" {
				documented = append(documented, strings.ToUpper(method)+" "+path)
			}
		}
	}
	s := &Server{}
	for _, rt := range s.apiRoutes() {
		served = append(served, rt.method+" "+rt.path)
	}
	served = append(served, "POST /api/v1/session", "GET /healthz") // served without a session
	slices.Sort(documented)
	slices.Sort(served)
	if !slices.Equal(documented, served) {
		t.Errorf("openapi.json documents\n  %s\nthe server routes\n  %s", strings.Join(documented, "\n  "), strings.Join(served, "\n  "))
	}

	types := map[string]any{"Session": Session{}, "SignIn": SignIn{}, "Cluster": Cluster{}, "Region": Region{}, "Datacenter": Datacenter{},
		"Condition": Condition{}, "ClusterList": ClusterList{}, "NewCluster": NewCluster{}, "ClusterChange": ClusterChange{},
		"DatacenterChange": DatacenterChange{}, "DataPlane": DataPlane{}, "DataPlaneList": DataPlaneList{}, "Operation": Operation{},
		"OperationList": OperationList{}, "Error": Error{}}
	if got := slices.Sorted(maps.Keys(doc.Components.Schemas)); !slices.Equal(got, slices.Sorted(maps.Keys(types))) {
		t.Errorf("openapi.json has schemas %v, the API types %v", got, slices.Sorted(maps.Keys(types)))
	}
	for name, v := range types {
		var fields []string
		rt := reflect.TypeOf(v)
		for i := range rt.NumField() {
			tag, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ",")
			fields = append(fields, tag)
		}
		slices.Sort(fields)
		if props := slices.Sorted(maps.Keys(doc.Components.Schemas[name].Properties)); !slices.Equal(props, fields) {
			t.Errorf("schema %s has properties %v, type %s the fields %v", name, props, name, fields)
		}
	}
}
