// Package tsspec holds what running our troubleshoot specs needs: Load parses them strictly
// (troubleshoot's loader drops misspelled collectors and fields silently, even when strict, so
// Load checks that every field written survived and refuses the spec otherwise), and Drain
// consumes troubleshoot's progress channel; Result turns an analyzer's verdict into ours.
package tsspec

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"

	analyzer "github.com/replicatedhq/troubleshoot/pkg/analyze"
	"github.com/replicatedhq/troubleshoot/pkg/loader"
	k8syaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/datastax/mission-control/internal/check"
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
	docs := k8syaml.NewYAMLReader(bufio.NewReader(strings.NewReader(raw)))
	for {
		doc, err := docs.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		var written map[string]any
		if err := yaml.Unmarshal(doc, &written); err != nil {
			return nil, err
		}
		if len(written) == 0 {
			continue // an empty document
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

// Drain returns the progress channel to give troubleshoot (which blocks on it and panics
// without it), passing its messages to progress (may be nil), and a wait that, once the channel
// is closed, returns the errors it carried (failed collectors).
func Drain(progress func(string)) (chan any, func() []error) {
	ch := make(chan any)
	done := make(chan []error, 1)
	go func() {
		var errs []error
		for msg := range ch {
			switch m := msg.(type) {
			case error:
				errs = append(errs, m)
			case string:
				if progress != nil {
					progress(m)
				}
			}
		}
		done <- errs
	}()
	return ch, func() []error { return <-done }
}

// Result is an analyzer's verdict as a preflight result. A message's " Remedy: " part, the
// convention of our specs, becomes the remedy of a result that did not pass.
func Result(r *analyzer.AnalyzeResult) check.Result {
	res := check.Result{Check: r.Title, Status: check.Pass}
	switch {
	case r.IsFail:
		res.Status = check.Fail
	case r.IsWarn:
		res.Status = check.Warn
	}
	res.Message, res.Remedy, _ = strings.Cut(r.Message, " Remedy: ")
	res.Message = strings.TrimSuffix(res.Message, ".")
	if res.Status == check.Pass {
		res.Remedy = ""
	}
	return res
}
