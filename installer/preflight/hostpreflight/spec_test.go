package hostpreflight

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"

	"sigs.k8s.io/yaml"
)

// TestSpecLoadsWhole: troubleshoot drops unknown collectors and fields silently, even when
// strict; every field the template writes must survive loading, in both modes.
func TestSpecLoadsWhole(t *testing.T) {
	for _, mode := range []string{"control-plane", "data-plane"} {
		spec, err := Spec(context.Background(), mode)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := render(mode)
		if err != nil {
			t.Fatal(err)
		}
		var written, loaded any
		if err := yaml.Unmarshal([]byte(raw), &written); err != nil {
			t.Fatal(err)
		}
		typed, err := json.Marshal(spec)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(typed, &loaded); err != nil {
			t.Fatal(err)
		}
		if path := dropped(written, loaded, ""); path != "" {
			t.Errorf("%s: troubleshoot dropped %s", mode, path)
		}
		if len(spec.Spec.Collectors) != 5 || len(spec.Spec.Analyzers) != 6 {
			t.Errorf("%s: %d collectors, %d analyzers", mode, len(spec.Spec.Collectors), len(spec.Spec.Analyzers))
		}
	}
}

// dropped is the first path written holds that loaded lacks or has otherwise.
func dropped(written, loaded any, path string) string {
	switch w := written.(type) {
	case map[string]any:
		l, ok := loaded.(map[string]any)
		if !ok {
			return path
		}
		for k, v := range w {
			if p := dropped(v, l[k], path+"."+k); p != "" {
				return p
			}
		}
	case []any:
		l, ok := loaded.([]any)
		if !ok || len(l) != len(w) {
			return path
		}
		for i := range w {
			if p := dropped(w[i], l[i], fmt.Sprintf("%s[%d]", path, i)); p != "" {
				return p
			}
		}
	default:
		if len(fmt.Sprint(written)) > 0 && !reflect.DeepEqual(written, loaded) {
			return fmt.Sprintf("%s (%v, loaded %v)", path, written, loaded)
		}
	}
	return ""
}
