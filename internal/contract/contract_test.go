package contract

import (
	"testing"
)

func TestNormalizeContext(t *testing.T) {
	for in, want := range map[string]string{"DP_WEST": "dp-west", "dp-west": "dp-west", "CP.East_1": "cp-east-1", "_x_": "x", "": ""} {
		if got := NormalizeContext(in); got != want {
			t.Errorf("NormalizeContext(%q) = %q, want %q", in, got, want)
		}
	}
}

// A registration's context is the one named like it, as written or in DNS form.
func TestIsContext(t *testing.T) {
	for name, want := range map[string]bool{"DP_WEST": true, "dp-west": true, "dp_west": true, "other": false, "dp-west-2": false} {
		if got := IsContext("DP_WEST")(name); got != want {
			t.Errorf("IsContext(DP_WEST)(%s) = %v, want %v", name, got, want)
		}
	}
}

func TestOperators(t *testing.T) {
	if cp, dp := Operators(true), Operators(false); len(cp) != 3 || len(dp) != 2 || cp[2] != MissionControlOperator {
		t.Errorf("control plane %v, data plane %v", cp, dp)
	}
}
