// Package tsspec loads our embedded troubleshoot specs strictly: troubleshoot's loader drops
// misspelled collectors and fields silently (even when strict), so Load also checks that every
// field written survived, and refuses the spec otherwise.
package tsspec

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"github.com/replicatedhq/troubleshoot/pkg/loader"
	"sigs.k8s.io/yaml"
)

// Load parses raw, a stream of troubleshoot documents.
func Load(ctx context.Context, raw string) (*loader.TroubleshootKinds, error) {
	kinds, err := loader.LoadSpecs(ctx, loader.LoadOptions{RawSpec: raw, Strict: true})
	if err != nil {
		return nil, err
	}
	loaded := map[string][]any{}
	for kind, list := range map[string]any{"HostPreflight": kinds.HostPreflightsV1Beta2, "SupportBundle": kinds.SupportBundlesV1Beta2, "Redactor": kinds.RedactorsV1Beta2} {
		b, err := json.Marshal(list)
		if err != nil {
			return nil, err
		}
		var docs []any
		if err := json.Unmarshal(b, &docs); err != nil {
			return nil, err
		}
		loaded[kind] = docs
	}
	seen := map[string]int{}
	for doc := range strings.SplitSeq(raw, "\n---\n") {
		var written map[string]any
		if err := yaml.Unmarshal([]byte(doc), &written); err != nil {
			return nil, err
		}
		kind, _ := written["kind"].(string)
		docs := loaded[kind]
		if seen[kind] >= len(docs) {
			return nil, fmt.Errorf("troubleshoot did not load the %s document", kind)
		}
		if path := Dropped(written, docs[seen[kind]], kind); path != "" {
			return nil, fmt.Errorf("troubleshoot dropped %s: a misspelled field or collector", path)
		}
		seen[kind]++
	}
	return kinds, nil
}

// Dropped is the first path written holds that loaded lacks or holds otherwise; empty if none.
func Dropped(written, loaded any, path string) string {
	switch w := written.(type) {
	case map[string]any:
		l, ok := loaded.(map[string]any)
		if !ok {
			return path
		}
		for k, v := range w {
			if p := Dropped(v, l[k], path+"."+k); p != "" {
				return p
			}
		}
	case []any:
		l, ok := loaded.([]any)
		if !ok || len(l) != len(w) {
			return path
		}
		for i := range w {
			if p := Dropped(w[i], l[i], fmt.Sprintf("%s[%d]", path, i)); p != "" {
				return p
			}
		}
	default:
		if !reflect.DeepEqual(written, loaded) {
			return fmt.Sprintf("%s (%v, loaded as %v)", path, written, loaded)
		}
	}
	return ""
}
