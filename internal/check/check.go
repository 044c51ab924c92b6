// Package check holds verdicts: a named check passes, warns or fails, with a message and, when
// it did not pass, a remedy. Host preflights, troubleshoot's analyzers and support bundles all
// report in these terms, so that one table and one JSON shape show them all.
package check

import (
	"fmt"
	"strings"
)

// Status is a check's verdict.
type Status string

// Verdicts. A failed host preflight stops install unless --ignore-host-preflights; a warning does not.
const (
	Pass Status = "pass"
	Warn Status = "warn"
	Fail Status = "fail"
)

// Result is one check's verdict, with the remedy when it did not pass.
type Result struct {
	Check   string `json:"check"`
	Status  Status `json:"status"`
	Message string `json:"message"`
	Remedy  string `json:"remedy,omitempty"`
}

// Report is the verdicts of every check, in a fixed order.
type Report struct {
	Results []Result `json:"results"`
}

// Failed returns the failed checks.
func (r Report) Failed() []Result { return r.with(Fail) }

// Warned returns the checks that passed with a warning.
func (r Report) Warned() []Result { return r.with(Warn) }

func (r Report) with(s Status) []Result {
	var out []Result
	for _, res := range r.Results {
		if res.Status == s {
			out = append(out, res)
		}
	}
	return out
}

// Summary is one line naming the failures, or the count of passes.
func (r Report) Summary() string {
	failed, warned := r.Failed(), r.Warned()
	if len(failed) == 0 {
		s := fmt.Sprintf("%d checks passed, %d with warnings", len(r.Results), len(warned))
		if len(warned) > 0 {
			s += ": " + checkNames(warned)
		}
		return s
	}
	return fmt.Sprintf("%d of %d checks failed: %s", len(failed), len(r.Results), checkNames(failed))
}

func checkNames(results []Result) string {
	names := make([]string, len(results))
	for i, r := range results {
		names[i] = r.Check
	}
	return strings.Join(names, ", ")
}
