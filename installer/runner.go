package installer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"time"

	"github.com/datastax/mission-control/internal/host"
	"github.com/datastax/mission-control/internal/progress"
)

// StepState is a step's progress in the journal.
type StepState string

// Journal states.
const (
	Started   StepState = "started"
	Succeeded StepState = "succeeded"
	Failed    StepState = "failed"
)

// JournalEntry is a step's last recorded progress.
type JournalEntry struct {
	Step  string    `json:"step"`
	State StepState `json:"state"`
	Time  time.Time `json:"time"`
	Error string    `json:"error,omitempty"`
}

// Journal records each changing step's progress in a file, written through a Host so that a dry
// run journals into its recorder instead of the data dir.
type Journal struct {
	host    host.Host
	path    string
	entries []JournalEntry
}

// OpenJournal loads the journal at path; a missing file is an empty journal.
func OpenJournal(h host.Host, path string) (*Journal, error) {
	j := &Journal{host: h, path: path}
	data, err := h.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return j, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read install journal: %w", err)
	}
	if err := json.Unmarshal(data, &j.entries); err != nil {
		return nil, fmt.Errorf("install journal %s is damaged (%v): run mission-control reset, then install again", path, err)
	}
	return j, nil
}

// Entries returns the journal's entries in step order.
func (j *Journal) Entries() []JournalEntry { return slices.Clone(j.entries) }

// State returns a step's last recorded state, or "" if it never ran.
func (j *Journal) State(step string) StepState {
	if i := slices.IndexFunc(j.entries, func(e JournalEntry) bool { return e.Step == step }); i >= 0 {
		return j.entries[i].State
	}
	return ""
}

// Complete reports whether every changing step of the plan has succeeded.
func (j *Journal) Complete(plan []Step) bool {
	for _, s := range plan {
		if !s.Check && j.State(s.Name) != Succeeded {
			return false
		}
	}
	return true
}

// Record sets a step's state and saves the journal.
func (j *Journal) Record(ctx context.Context, step string, state StepState, at time.Time, stepErr error) error {
	e := JournalEntry{Step: step, State: state, Time: at.UTC()}
	if stepErr != nil {
		e.Error = stepErr.Error()
	}
	if i := slices.IndexFunc(j.entries, func(e JournalEntry) bool { return e.Step == step }); i >= 0 {
		j.entries[i] = e
	} else {
		j.entries = append(j.entries, e)
	}
	data, err := json.MarshalIndent(j.entries, "", "  ")
	if err != nil {
		return fmt.Errorf("encode install journal: %w", err)
	}
	if err := j.host.MkdirAll(ctx, filepath.Dir(j.path), 0o700); err != nil {
		return err
	}
	return j.host.WriteFile(ctx, j.path, append(data, '\n'), 0o600)
}

// Outcome is what happened to a step in a run.
type Outcome string

// Step outcomes.
const (
	OutcomeOK      Outcome = "ok"
	OutcomeSkipped Outcome = "skipped" // already done
	OutcomeFailed  Outcome = "failed"
)

// Result is a step's outcome in a run.
type Result struct {
	Step    string  `json:"step"`
	Title   string  `json:"title"`
	Check   bool    `json:"check,omitempty"`
	Outcome Outcome `json:"outcome"`
	Detail  string  `json:"detail,omitempty"`
	Error   string  `json:"error,omitempty"`
}

// Runner runs a plan's steps in order.
type Runner struct {
	Journal  *Journal
	Progress progress.Reporter
	// BeforeChanges, if set, runs once before the first step that would change the host; an
	// error stops the run with the host untouched. Install uses it to ask for confirmation.
	BeforeChanges func(*StepContext) error
}

// Install runs the steps in order and stops at the first failure, returning the results so far.
// A failing step's error is prefixed with its name.
func (r *Runner) Install(ctx context.Context, sc *StepContext, steps []Step) ([]Result, error) {
	var results []Result
	confirmed := r.BeforeChanges == nil
	sc.journal = r.Journal
	for _, s := range steps {
		stepCtx := host.WithStep(ctx, s.Name)
		sc.detail = ""
		res := Result{Step: s.Name, Title: s.Title, Check: s.Check, Outcome: OutcomeOK}
		skip, err := r.alreadyDone(stepCtx, sc, s)
		if err == nil && !skip && !s.Check && !confirmed {
			if err := r.BeforeChanges(sc); err != nil {
				return results, err
			}
			confirmed = true
		}
		r.Progress.Start(s.Title)
		switch {
		case err != nil:
		case skip:
			res.Outcome, sc.detail = OutcomeSkipped, "already done"
		case s.Check:
			err = s.Run(stepCtx, sc)
		default:
			err = r.runJournaled(stepCtx, sc, s)
		}
		res.Detail = sc.detail
		if err != nil {
			res.Outcome, res.Error = OutcomeFailed, err.Error()
			r.Progress.End(false, "")
			return append(results, res), fmt.Errorf("%s: %w", s.Name, err)
		}
		r.Progress.End(true, res.Detail)
		results = append(results, res)
	}
	return results, nil
}

// alreadyDone: a changing step is skipped only if it succeeded before and its effect is still there.
func (r *Runner) alreadyDone(ctx context.Context, sc *StepContext, s Step) (bool, error) {
	if s.Check || s.Done == nil || r.Journal.State(s.Name) != Succeeded {
		return false, nil
	}
	done, err := s.Done(ctx, sc)
	if err != nil {
		return false, fmt.Errorf("check whether it is done: %w", err)
	}
	return done, nil
}

func (r *Runner) runJournaled(ctx context.Context, sc *StepContext, s Step) error {
	if err := r.Journal.Record(ctx, s.Name, Started, sc.Now(), nil); err != nil {
		return err
	}
	runErr := s.Run(ctx, sc)
	state := Succeeded
	if runErr != nil {
		state = Failed
	}
	if err := r.Journal.Record(ctx, s.Name, state, sc.Now(), runErr); err != nil {
		return errors.Join(runErr, err)
	}
	return runErr
}

// Reset undoes the steps in reverse order. It goes on past a failing undo, so that as much as
// possible is removed, and returns every failure.
func (r *Runner) Reset(ctx context.Context, sc *StepContext, steps []Step) ([]Result, error) {
	var results []Result
	var errs []error
	for _, s := range slices.Backward(steps) {
		if s.Undo == nil {
			continue
		}
		stepCtx := host.WithStep(ctx, s.Name)
		sc.detail = ""
		title := "Undo: " + s.Title
		r.Progress.Start(title)
		res := Result{Step: s.Name, Title: title, Outcome: OutcomeOK}
		if err := s.Undo(stepCtx, sc); err != nil {
			res.Outcome, res.Error = OutcomeFailed, err.Error()
			errs = append(errs, fmt.Errorf("undo %s: %w", s.Name, err))
			r.Progress.End(false, "")
		} else {
			res.Detail = sc.detail
			r.Progress.End(true, res.Detail)
		}
		results = append(results, res)
	}
	return results, errors.Join(errs...)
}
