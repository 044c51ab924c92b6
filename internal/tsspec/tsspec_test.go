package tsspec

import (
	"context"
	"strings"
	"testing"
)

func TestLoadRefusesDroppedFields(t *testing.T) {
	const good = `apiVersion: troubleshoot.sh/v1beta2
kind: HostPreflight
metadata:
  name: t
spec:
  collectors:
    - cpu: {}
  analyzers:
    - cpu:
        checkName: cpu
        outcomes:
          - pass:
              message: ok`
	if _, err := Load(context.Background(), good); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{
		strings.Replace(good, "checkName", "checkname", 1),
		strings.Replace(good, "- cpu: {}", "- cpus: {}", 1),
		good + "\n---\napiVersion: troubleshoot.sh/v1beta2\nkind: Redactor\nmetadata:\n  name: r\nspec:\n  redactors:\n    - name: x\n      removals:\n        regexes: [a]",
	} {
		if _, err := Load(context.Background(), bad); err == nil || !strings.Contains(err.Error(), "troubleshoot dropped") {
			t.Errorf("Load accepted a misspelled spec: %v\n%s", err, bad)
		}
	}
}
