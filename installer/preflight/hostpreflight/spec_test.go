package hostpreflight

import (
	"context"
	"testing"
)

// TestSpecLoads: both modes' specs load whole (tsspec.Load refuses dropped fields).
func TestSpecLoads(t *testing.T) {
	for _, mode := range []string{"control-plane", "data-plane"} {
		spec, err := Spec(context.Background(), mode)
		if err != nil {
			t.Fatal(err)
		}
		if len(spec.Spec.Collectors) != 5 || len(spec.Spec.Analyzers) != 6 {
			t.Errorf("%s: %d collectors, %d analyzers", mode, len(spec.Spec.Collectors), len(spec.Spec.Analyzers))
		}
	}
}
