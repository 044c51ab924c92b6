package charts

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/storage/driver"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/datastax/mission-control/internal/kube"
)

// FieldManager owns what mission-control applies server-side.
const FieldManager = "mission-control"

// Client installs the chart into the cluster a kubeconfig reaches.
type Client struct {
	Kubeconfig string
	// Log receives Helm's debug lines.
	Log func(format string, args ...any)
	// Timeout bounds Helm's install or upgrade (5 minutes when zero).
	Timeout time.Duration
}

var crdResource = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// ApplyCRDs applies every CRD of the chart server-side (CRDs too large for client-side apply
// included, and updated on every install) and waits for each to be Established.
func (c Client) ApplyCRDs(ctx context.Context, timeout time.Duration) ([]string, error) {
	cfg, err := kube.RESTConfigFile(c.Kubeconfig, 30*time.Second)
	if err != nil {
		return nil, err
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	crds, err := CRDs()
	if err != nil {
		return nil, err
	}
	var names []string
	for _, crd := range crds {
		data, err := json.Marshal(crd.Object)
		if err != nil {
			return nil, err
		}
		force := true
		if _, err := dyn.Resource(crdResource).Patch(ctx, crd.GetName(), types.ApplyPatchType, data,
			metav1.PatchOptions{FieldManager: FieldManager, Force: &force}); err != nil {
			return nil, fmt.Errorf("apply CRD %s: %w", crd.GetName(), err)
		}
		names = append(names, crd.GetName())
	}
	var waiting string
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		for _, name := range names {
			u, err := dyn.Resource(crdResource).Get(ctx, name, metav1.GetOptions{})
			if err != nil || !established(u.Object) {
				waiting = name
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		return nil, fmt.Errorf("CRD %s is not Established after %s", waiting, timeout)
	}
	return names, nil
}

func established(obj map[string]any) bool {
	var crd apiextensionsv1.CustomResourceDefinition
	data, _ := json.Marshal(obj)
	if json.Unmarshal(data, &crd) != nil {
		return false
	}
	established, ok := kube.Condition(crd.Status.Conditions, func(c apiextensionsv1.CustomResourceDefinitionCondition) bool {
		return c.Type == apiextensionsv1.Established
	})
	return ok && established.Status == apiextensionsv1.ConditionTrue
}

func (c Client) helm() (*action.Configuration, error) {
	flags := genericclioptions.NewConfigFlags(false)
	flags.KubeConfig = &c.Kubeconfig
	ns := Namespace
	flags.Namespace = &ns
	cfg := &action.Configuration{}
	log := c.Log
	if log == nil {
		log = func(string, ...any) {}
	}
	if err := cfg.Init(flags, Namespace, "secret", log); err != nil {
		return nil, fmt.Errorf("set up Helm: %w", err)
	}
	return cfg, nil
}

// Deployed reports whether the release is deployed from this chart version with these values,
// so that a resumed install need not upgrade it.
func (c Client) Deployed(name string, ch *chart.Chart, v Values) (bool, error) {
	cfg, err := c.helm()
	if err != nil {
		return false, err
	}
	rel, err := action.NewGet(cfg).Run(name)
	if errors.Is(err, driver.ErrReleaseNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read release %s: %w", name, err)
	}
	want, _ := json.Marshal(v.helm())
	have, _ := json.Marshal(rel.Config)
	return rel.Info.Status == release.StatusDeployed && rel.Chart.Metadata.Version == ch.Metadata.Version &&
		rel.Chart.Metadata.AppVersion == ch.Metadata.AppVersion && string(want) == string(have), nil
}

// Install installs the release, or upgrades it when it exists. A release an interrupted install
// left pending is removed first: Helm refuses to touch it otherwise.
func (c Client) Install(ctx context.Context, name string, ch *chart.Chart, v Values) (*release.Release, error) {
	cfg, err := c.helm()
	if err != nil {
		return nil, err
	}
	last, err := cfg.Releases.Last(name)
	switch {
	case errors.Is(err, driver.ErrReleaseNotFound):
		last = nil
	case err != nil:
		return nil, fmt.Errorf("read release %s: %w", name, err)
	case last.Info.Status.IsPending():
		if _, err := action.NewUninstall(cfg).Run(name); err != nil {
			return nil, fmt.Errorf("remove the pending release %s: %w", name, err)
		}
		last = nil
	}
	if last == nil {
		install := action.NewInstall(cfg)
		install.ReleaseName, install.Namespace = name, Namespace
		install.CreateNamespace, install.SkipCRDs = true, true // CRDs are applied server-side first
		install.Timeout = cmp.Or(c.Timeout, 5*time.Minute)
		rel, err := install.RunWithContext(ctx, ch, v.helm())
		if err != nil {
			return nil, fmt.Errorf("install release %s: %w", name, err)
		}
		return rel, nil
	}
	upgrade := action.NewUpgrade(cfg)
	upgrade.Namespace, upgrade.SkipCRDs, upgrade.MaxHistory = Namespace, true, 5
	upgrade.Timeout = cmp.Or(c.Timeout, 5*time.Minute)
	rel, err := upgrade.RunWithContext(ctx, name, ch, v.helm())
	if err != nil {
		return nil, fmt.Errorf("upgrade release %s: %w", name, err)
	}
	return rel, nil
}

// Component is one Deployment of the release and whether it is Available.
type Component struct {
	Name      string `json:"name"`
	Available bool   `json:"available"`
	Ready     string `json:"ready"` // ready/desired replicas
	Image     string `json:"image"`
	Problem   string `json:"problem,omitempty"`
}

// Components lists the release's Deployments and their readiness.
func Components(ctx context.Context, client kubernetes.Interface, release string) ([]Component, error) {
	list, err := client.AppsV1().Deployments(Namespace).List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/instance=" + release})
	if err != nil {
		return nil, fmt.Errorf("list the operators: %w", err)
	}
	var out []Component
	for _, d := range list.Items {
		comp := Component{Name: d.Name, Ready: fmt.Sprintf("%d/%d", d.Status.ReadyReplicas, ptrOr(d.Spec.Replicas, 1))}
		if len(d.Spec.Template.Spec.Containers) > 0 {
			comp.Image = d.Spec.Template.Spec.Containers[0].Image
		}
		if c, ok := kube.Condition(d.Status.Conditions, func(c appsv1.DeploymentCondition) bool { return c.Type == appsv1.DeploymentAvailable }); ok {
			comp.Available = c.Status == corev1.ConditionTrue
			if !comp.Available {
				comp.Problem = c.Message
			}
		}
		out = append(out, comp)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func ptrOr(p *int32, def int32) int32 {
	if p == nil {
		return def
	}
	return *p
}

// WaitAvailable waits until the expected Deployments all exist and are Available. On timeout
// the error names those that are not, with their pods' latest events.
func WaitAvailable(ctx context.Context, client kubernetes.Interface, release string, expected []string, timeout time.Duration, update func(string)) ([]Component, error) {
	start := time.Now()
	var comps []Component
	var waiting []string
	var listErr error
	err := wait.PollUntilContextTimeout(ctx, time.Second, timeout, true, func(ctx context.Context) (bool, error) {
		if comps, listErr = Components(ctx, client, release); listErr != nil {
			return false, nil
		}
		waiting = slices.DeleteFunc(slices.Clone(expected), func(name string) bool {
			i := slices.IndexFunc(comps, func(c Component) bool { return c.Name == name })
			return i >= 0 && comps[i].Available
		})
		if len(waiting) > 0 {
			update(fmt.Sprintf("waiting for %s (%s)", strings.Join(waiting, ", "), time.Since(start).Round(time.Second)))
		}
		return len(waiting) == 0, nil
	})
	switch {
	case err == nil:
		return comps, nil
	case ctx.Err() != nil:
		return nil, err
	case listErr != nil:
		return nil, fmt.Errorf("the operators are not Available after %s: %w", timeout, listErr)
	}
	return nil, fmt.Errorf("%s not Available after %s: %s", strings.Join(waiting, ", "), timeout, lastEvents(ctx, client, waiting))
}

// lastEvents summarises the newest events of the named Deployments' objects (the Deployment,
// its ReplicaSets and pods, which share its name as a prefix).
func lastEvents(ctx context.Context, client kubernetes.Interface, names []string) string {
	list, err := client.CoreV1().Events(Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return "events unreadable: " + err.Error()
	}
	events := list.Items
	sort.Slice(events, func(i, j int) bool { return events[i].LastTimestamp.Before(&events[j].LastTimestamp) })
	var out []string
	for _, name := range names {
		var mine []string
		for _, e := range events {
			if strings.HasPrefix(e.InvolvedObject.Name, name) {
				mine = append(mine, fmt.Sprintf("%s %s/%s: %s", e.Reason, e.InvolvedObject.Kind, e.InvolvedObject.Name, e.Message))
			}
		}
		if len(mine) > 3 {
			mine = mine[len(mine)-3:]
		}
		if len(mine) == 0 {
			mine = []string{"no events"}
		}
		out = append(out, name+" last events: "+strings.Join(mine, "; "))
	}
	return strings.Join(out, " | ")
}
