// Package hostpreflight runs the host preflights' troubleshoot part: an embedded HostPreflight
// spec whose host collectors and analyzers judge CPUs, memory, the distribution, kernel features
// and cgroups. Only the mission-control binary links it (troubleshoot is large): the rest of
// the preflights, and mcctl, see its verdicts as preflight.Facts.Analyzed.
package hostpreflight

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"text/template"

	analyzer "github.com/replicatedhq/troubleshoot/pkg/analyze"
	"github.com/replicatedhq/troubleshoot/pkg/apis/troubleshoot/v1beta2"
	"github.com/replicatedhq/troubleshoot/pkg/collect"
	tspreflight "github.com/replicatedhq/troubleshoot/pkg/preflight"

	"github.com/datastax/mission-control/installer/preflight"
	"github.com/datastax/mission-control/internal/check"
	"github.com/datastax/mission-control/internal/network"
	"github.com/datastax/mission-control/internal/progress"
	"github.com/datastax/mission-control/internal/tsspec"
)

//go:embed host-preflight.yaml
var specTemplate string

var specTmpl = template.Must(template.New("host-preflight.yaml").Delims("[[", "]]").
	Funcs(template.FuncMap{"gib": func(v uint64) string { return fmt.Sprintf("%d GiB", v>>30) }, "reported": reportedMemory}).
	Parse(specTemplate))

// reportedMemory is the least total memory a host with v bytes of RAM reports: the kernel keeps
// its own image and the firmware's reserved ranges out of MemTotal (a VM given 8 GiB reports
// about 7.7 GiB). Comparing with v itself would refuse the very hosts the docs size.
func reportedMemory(v uint64) uint64 { return v - v/16 }

// Gather reads this machine: troubleshoot's collectors, judged by its analyzers for the mode,
// and the facts mission-control's own checks judge. It only reads.
func Gather(ctx context.Context, in preflight.Input, hostNet network.HostNetwork) (preflight.Facts, error) {
	spec, err := Spec(ctx, in.Mode)
	if err != nil {
		return preflight.Facts{}, err
	}
	f, err := preflight.Gather(in, hostNet)
	if err != nil {
		return preflight.Facts{}, err
	}
	files, errs := runCollectors(ctx, spec)
	f.Analyzed = Analyze(ctx, spec, files, errs)
	return f, nil
}

// render is the spec's YAML for mode.
func render(mode string) (string, error) {
	req, ok := preflight.RequirementsOf(mode)
	if !ok {
		return "", fmt.Errorf("unknown mode %q", mode)
	}
	var b strings.Builder
	data := struct {
		Mode string
		preflight.Requirements
	}{mode, req}
	if err := specTmpl.Execute(&b, data); err != nil {
		return "", fmt.Errorf("render the host preflight spec: %w", err)
	}
	return b.String(), nil
}

// Spec is troubleshoot's HostPreflight for mode.
func Spec(ctx context.Context, mode string) (*v1beta2.HostPreflight, error) {
	raw, err := render(mode)
	if err != nil {
		return nil, err
	}
	kinds, err := tsspec.Load(ctx, raw)
	if err != nil {
		return nil, fmt.Errorf("load the host preflight spec: %w", err)
	}
	if len(kinds.HostPreflightsV1Beta2) != 1 {
		return nil, fmt.Errorf("the host preflight spec holds %d HostPreflights, want 1", len(kinds.HostPreflightsV1Beta2))
	}
	return &kinds.HostPreflightsV1Beta2[0], nil
}

// runCollectors runs spec's host collectors, reporting each as it starts. Their files, by path, are
// what Analyze judges; a collector that fails leaves its files out and its error in the list.
func runCollectors(ctx context.Context, spec *v1beta2.HostPreflight) (map[string][]byte, []error) {
	ch, wait := tsspec.Drain(nil)
	res, err := tspreflight.CollectHostWithContext(ctx, tspreflight.CollectOpts{ProgressChan: ch}, spec)
	close(ch)
	errs := wait()
	if err != nil {
		errs = append(errs, err)
	}
	var files map[string][]byte
	if hr, ok := res.(tspreflight.HostCollectResult); ok {
		files = hr.AllCollectedData
	}
	return files, errs
}

// Analyze judges the collected files with spec's analyzers, and the cgroups file with ours;
// errs are the collectors' failures, shown where an analyzer could not run for lack of a file.
func Analyze(ctx context.Context, spec *v1beta2.HostPreflight, files map[string][]byte, errs []error) []check.Result {
	results := tspreflight.HostCollectResult{AllCollectedData: files, Spec: spec, Context: ctx}.Analyze()
	out := make([]check.Result, 0, len(results)+1)
	for _, r := range results {
		out = append(out, fromTroubleshoot(r, files, errs))
	}
	return append(out, cgroupsResult(files))
}

// analyzerFailed prefixes troubleshoot's message when an analyzer could not run, typically
// because its collector failed.
const analyzerFailed = "Analyzer Failed:"

func fromTroubleshoot(r *analyzer.AnalyzeResult, files map[string][]byte, errs []error) check.Result {
	res := tsspec.Result(r)
	if strings.HasPrefix(r.Message, analyzerFailed) {
		res.Message = "could not be checked"
		if len(errs) > 0 {
			res.Message += ": " + errors.Join(errs...).Error()
		}
		res.Remedy = "fix the collector's error above, or pass --ignore-host-preflights if the host is known to be fit"
	}
	if m := measured(r.Title, files); m != "" {
		res.Message = m + "; " + res.Message
	}
	return res
}

// measured is the value a resource check judged, which troubleshoot's messages do not show.
func measured(name string, files map[string][]byte) string {
	switch name {
	case "cpu":
		var cpu collect.CPUInfo
		if json.Unmarshal(files[collect.HostCPUPath], &cpu) == nil && cpu.LogicalCount > 0 {
			return fmt.Sprintf("%d CPUs", max(cpu.LogicalCount, cpu.PhysicalCount))
		}
	case "memory":
		var mem collect.MemoryInfo
		if json.Unmarshal(files[collect.HostMemoryPath], &mem) == nil && mem.Total > 0 {
			return progress.Size(int64(mem.Total))
		}
	}
	return ""
}

// hostCGroupsPath is where troubleshoot's cgroups collector writes; its analyzers have no
// cgroups check, so cgroupsResult judges the file.
const hostCGroupsPath = "host-collectors/system/cgroups.json"

// cgroupControllers are the controllers the kubelet needs to limit pods.
var cgroupControllers = []string{"cpu", "cpuset", "memory", "pids"}

func cgroupsResult(files map[string][]byte) check.Result {
	r := check.Result{Check: "cgroups", Status: check.Fail, Remedy: "boot with cgroups enabled (cgroup v2: systemd.unified_cgroup_hierarchy=1) and mount them at /sys/fs/cgroup"}
	var cg struct {
		Enabled     bool                   `json:"cgroup-enabled"`
		V2          struct{ Enabled bool } `json:"cgroup-v2"`
		Controllers []string               `json:"allControllers"`
	}
	data, ok := files[hostCGroupsPath]
	if !ok {
		r.Message = "not found at /sys/fs/cgroup"
		return r
	}
	if err := json.Unmarshal(data, &cg); err != nil {
		r.Message = fmt.Sprintf("unreadable collector output: %v", err)
		return r
	}
	var missing []string
	for _, c := range cgroupControllers {
		if !slices.Contains(cg.Controllers, c) {
			missing = append(missing, c)
		}
	}
	version := "v1"
	if cg.V2.Enabled {
		version = "v2"
	}
	switch {
	case !cg.Enabled:
		r.Message = "cgroups are not enabled"
	case len(missing) > 0:
		r.Message = fmt.Sprintf("cgroup %s lacks the %s controllers the kubelet needs", version, strings.Join(missing, ", "))
		r.Remedy = "enable them on the kernel command line (e.g. cgroup_enable=memory) or in the parent cgroup's cgroup.subtree_control"
	default:
		r.Status, r.Remedy = check.Pass, ""
		r.Message = fmt.Sprintf("cgroup %s with %s", version, strings.Join(cgroupControllers, ", "))
	}
	return r
}
