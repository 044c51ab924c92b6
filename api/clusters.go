package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/datastax/mission-control/internal/contract"
	"github.com/datastax/mission-control/internal/kube"
	"github.com/datastax/mission-control/operators/missioncontrol"
	"github.com/datastax/mission-control/operators/missioncontrol/api/v1beta1"
)

// MissionControlClusters are read and written unstructured, so that a change made here keeps
// every field the API does not know (storageConfig, racks, config, ...) exactly as stored.
var (
	clusterGVK     = v1beta1.GroupVersion.WithKind("MissionControlCluster")
	clusterListGVK = v1beta1.GroupVersion.WithKind("MissionControlClusterList")
	datacentersAt  = []string{"spec", "k8ssandra", "cassandra", "datacenters"}
)

func newCluster() *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(clusterGVK)
	return u
}

func (s *Server) listClusters(r *request) (any, error) {
	items, _, err := list(r)
	if err != nil {
		return nil, err
	}
	return ClusterList{Items: items}, nil
}

// list reads the clusters the user may list (in ?namespace= when given), sorted, each with its
// stored object.
func list(r *request) ([]Cluster, []*unstructured.Unstructured, error) {
	l := &unstructured.UnstructuredList{}
	l.SetGroupVersionKind(clusterListGVK)
	var opts []client.ListOption
	if ns := r.URL.Query().Get("namespace"); ns != "" {
		opts = append(opts, client.InNamespace(ns))
	}
	if err := r.user.List(r.Context(), l, opts...); err != nil {
		return nil, nil, err
	}
	slices.SortFunc(l.Items, func(a, b unstructured.Unstructured) int {
		return strings.Compare(a.GetNamespace()+"/"+a.GetName(), b.GetNamespace()+"/"+b.GetName())
	})
	items, objs := []Cluster{}, make([]*unstructured.Unstructured, len(l.Items))
	for i := range l.Items {
		c, err := clusterOf(&l.Items[i])
		if err != nil {
			return nil, nil, err
		}
		items, objs[i] = append(items, c), &l.Items[i]
	}
	return items, objs, nil
}

func (s *Server) getCluster(r *request) (any, error) {
	u, err := s.fetch(r)
	if err != nil {
		return nil, err
	}
	return clusterOf(u)
}

func (s *Server) fetch(r *request) (*unstructured.Unstructured, error) {
	u := newCluster()
	key := client.ObjectKey{Namespace: r.PathValue("namespace"), Name: r.PathValue("name")}
	if err := r.user.Get(r.Context(), key, u); err != nil {
		return nil, err
	}
	return u, nil
}

func (s *Server) createCluster(r *request) (any, error) {
	var in NewCluster
	if err := decode(r.Body, &in); err != nil {
		return nil, err
	}
	if msgs := validation.IsDNS1123Label(in.Namespace); len(msgs) > 0 {
		return nil, badRequest("namespace %q: %s", in.Namespace, strings.Join(msgs, "; "))
	}
	if msgs := validation.IsDNS1123Label(in.Name); len(msgs) > 0 {
		return nil, badRequest("name %q: %s", in.Name, strings.Join(msgs, "; "))
	}
	var spec map[string]any
	if err := json.Unmarshal(in.Spec, &spec); err != nil || spec == nil {
		return nil, badRequest("spec: a MissionControlCluster spec object is needed, e.g. {\"k8ssandra\":{\"cassandra\":{\"serverVersion\":\"4.1.5\",\"datacenters\":[{\"metadata\":{\"name\":\"dc1\"},\"size\":3}]}}}")
	}
	u := newCluster()
	u.SetNamespace(in.Namespace)
	u.SetName(in.Name)
	u.Object["spec"] = spec
	if err := s.checkDatacenters(r, u); err != nil {
		return nil, err
	}
	if err := r.user.Create(r.Context(), u); err != nil {
		return nil, err
	}
	return clusterOf(u)
}

func (s *Server) updateCluster(r *request) (any, error) {
	var change ClusterChange
	if err := decode(r.Body, &change); err != nil {
		return nil, err
	}
	if change.Stopped == nil && change.Datacenters == nil {
		return nil, badRequest("nothing to change: set stopped or datacenters")
	}
	u, err := s.fetch(r)
	if err != nil {
		return nil, err
	}
	if change.ResourceVersion != "" {
		u.SetResourceVersion(change.ResourceVersion)
	}
	stored, _, err := unstructured.NestedSlice(u.Object, datacentersAt...)
	if err != nil {
		return nil, fmt.Errorf("read the stored datacenters of %s/%s: %w", u.GetNamespace(), u.GetName(), err)
	}
	dcs := stored
	if change.Datacenters != nil {
		if dcs, err = applyDatacenters(stored, change.Datacenters); err != nil {
			return nil, err
		}
	}
	if change.Stopped != nil {
		for _, dc := range dcs {
			dc.(map[string]any)["stopped"] = *change.Stopped
		}
	}
	if err := unstructured.SetNestedSlice(u.Object, dcs, datacentersAt...); err != nil {
		return nil, err
	}
	if err := s.checkDatacenters(r, u); err != nil {
		return nil, err
	}
	if err := r.user.Update(r.Context(), u); err != nil {
		if apierrors.IsConflict(err) {
			return nil, &httpError{http.StatusConflict, fmt.Sprintf("cluster %s/%s changed since you read it: reload it and make the change again", u.GetNamespace(), u.GetName())}
		}
		return nil, err
	}
	return clusterOf(u)
}

// applyDatacenters makes the stored datacenters the wanted list: stored ones keep every field
// but size, stopped (when given) and their place; new ones are added; the others are removed.
func applyDatacenters(stored []any, wanted []DatacenterChange) ([]any, error) {
	if len(wanted) == 0 {
		return nil, badRequest("datacenters: a cluster needs at least one datacenter; delete the cluster instead")
	}
	byName := map[string]map[string]any{}
	for _, raw := range stored {
		dc, _ := raw.(map[string]any)
		name, _, _ := unstructured.NestedString(dc, "metadata", "name")
		byName[name] = dc
	}
	seen := map[string]bool{}
	var out []any
	for _, w := range wanted {
		if msgs := validation.IsDNS1123Label(w.Name); len(msgs) > 0 {
			return nil, badRequest("datacenter name %q: %s", w.Name, strings.Join(msgs, "; "))
		}
		if seen[w.Name] {
			return nil, badRequest("datacenter %s is listed twice", w.Name)
		}
		seen[w.Name] = true
		if w.Size < 1 {
			return nil, badRequest("datacenter %s: size %d; a datacenter has at least 1 node", w.Name, w.Size)
		}
		dc, ok := byName[w.Name]
		if ok {
			dc = runtime.DeepCopyJSON(dc)
			if was, _, _ := unstructured.NestedString(dc, "k8sContext"); contract.NormalizeContext(was) != contract.NormalizeContext(w.DataPlaneContext) {
				return nil, badRequest("datacenter %s runs in %s: a datacenter cannot move to %s; add a new datacenter there and remove this one", w.Name, contextName(was), contextName(w.DataPlaneContext))
			}
		} else {
			dc = map[string]any{"metadata": map[string]any{"name": w.Name}}
			if w.DataPlaneContext != "" {
				dc["k8sContext"] = w.DataPlaneContext
			}
		}
		dc["size"] = int64(w.Size)
		if w.Stopped != nil {
			dc["stopped"] = *w.Stopped
		}
		out = append(out, dc)
	}
	return out, nil
}

func contextName(c string) string {
	if c == "" {
		return "the control plane"
	}
	return "data plane " + c
}

// checkDatacenters refuses, before anything is written, a datacenter in a data plane that is not
// registered, or one whose registration does not cover the cluster's namespace: the operator
// would only report it later as a condition. The registrations are listed with the user's token.
func (s *Server) checkDatacenters(r *request, u *unstructured.Unstructured) error {
	dcs, _, err := unstructured.NestedSlice(u.Object, datacentersAt...)
	if err != nil {
		return badRequest("spec.k8ssandra.cassandra.datacenters: %v", err)
	}
	if len(dcs) == 0 {
		return badRequest("spec.k8ssandra.cassandra.datacenters: at least one datacenter is needed, e.g. [{\"metadata\":{\"name\":\"dc1\"},\"size\":3}]")
	}
	var regs []contract.Registration
	listed := false
	for _, raw := range dcs {
		dc, _ := raw.(map[string]any)
		name, _, _ := unstructured.NestedString(dc, "metadata", "name")
		ctxName, _, _ := unstructured.NestedString(dc, "k8sContext")
		if ctxName == "" {
			continue
		}
		if !listed {
			if regs, err = contract.Registrations(r.Context(), r.user, s.o.Namespace); err != nil {
				return err
			}
			listed = true
		}
		i := slices.IndexFunc(regs, func(reg contract.Registration) bool { return contract.IsContext(reg.Context)(ctxName) })
		if i < 0 {
			var known []string
			for _, reg := range regs {
				known = append(known, reg.Context)
			}
			return badRequest("datacenter %s: data plane context %q is not registered (registered: %s); register it with mcctl register, or leave the context empty for the control plane", name, ctxName, orNone(known))
		}
		if !regs[i].Covers(u.GetNamespace()) {
			return badRequest("datacenter %s: data plane %s is registered for namespaces %s, not %s; run mcctl register again with --database-namespaces %s", name, ctxName, orNone(regs[i].Namespaces), u.GetNamespace(), strings.Join(append(slices.Clone(regs[i].Namespaces), u.GetNamespace()), ","))
		}
	}
	return nil
}

func orNone(list []string) string {
	if len(list) == 0 {
		return "none"
	}
	return strings.Join(list, ", ")
}

func (s *Server) deleteCluster(r *request) (any, error) {
	u := newCluster()
	u.SetNamespace(r.PathValue("namespace"))
	u.SetName(r.PathValue("name"))
	if err := r.user.Delete(r.Context(), u); err != nil {
		return nil, err
	}
	return nil, nil
}

// clusterOf reads a MissionControlCluster into the API's view: the spec's datacenters with the
// status the operator reports for each.
func clusterOf(u *unstructured.Unstructured) (Cluster, error) {
	var mcc v1beta1.MissionControlCluster
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &mcc); err != nil {
		return Cluster{}, fmt.Errorf("read MissionControlCluster %s/%s: %w", u.GetNamespace(), u.GetName(), err)
	}
	spec, err := json.Marshal(u.Object["spec"])
	if err != nil {
		return Cluster{}, err
	}
	c := Cluster{Namespace: mcc.Namespace, Name: mcc.Name, ResourceVersion: mcc.ResourceVersion, Created: mcc.CreationTimestamp.Time,
		Deleting: mcc.DeletionTimestamp != nil, Spec: spec, Conditions: []Condition{}, Regions: []Region{}}
	if ready := meta.FindStatusCondition(mcc.Status.Conditions, missioncontrol.ConditionReady); ready != nil {
		c.Ready = ready.Status == metav1.ConditionTrue
	}
	for _, cond := range mcc.Status.Conditions {
		c.Conditions = append(c.Conditions, Condition{Type: cond.Type, Status: string(cond.Status), Reason: cond.Reason, Message: cond.Message, LastTransitionTime: cond.LastTransitionTime.Time})
	}
	cass := mcc.Spec.K8ssandra.Cassandra
	if cass == nil {
		return c, nil
	}
	c.ServerType, c.ServerVersion = cass.ServerType, cass.ServerVersion
	c.Stopped = len(cass.Datacenters) > 0
	for _, t := range cass.Datacenters {
		dc := Datacenter{Name: t.Meta.Name, DataPlaneContext: t.K8sContext, Size: t.Size, Stopped: t.Stopped, Progress: "Pending"}
		if i := slices.IndexFunc(mcc.Status.Datacenters, func(st v1beta1.DatacenterStatus) bool { return st.Name == t.Meta.Name }); i >= 0 {
			st := mcc.Status.Datacenters[i]
			dc.NodesReady, dc.Progress = st.ReadyReplicas, st.Progress
		}
		dc.Ready = !dc.Stopped && dc.Progress == "Ready" && dc.NodesReady == dc.Size
		c.Stopped = c.Stopped && dc.Stopped
		c.NodesReady += dc.NodesReady
		c.Nodes += dc.Size
		i := slices.IndexFunc(c.Regions, func(r Region) bool {
			return contract.NormalizeContext(r.DataPlaneContext) == contract.NormalizeContext(t.K8sContext)
		})
		if i < 0 {
			c.Regions = append(c.Regions, Region{DataPlaneContext: t.K8sContext, Datacenters: []Datacenter{}})
			i = len(c.Regions) - 1
		}
		reg := &c.Regions[i]
		reg.Datacenters = append(reg.Datacenters, dc)
		reg.NodesReady += dc.NodesReady
		reg.Nodes += dc.Size
	}
	return c, nil
}

// listOperations derives the work in flight from the clusters the user may list: a delete not
// yet finished, a change the operator has not picked up, datacenters stopping or short of nodes.
func (s *Server) listOperations(r *request) (any, error) {
	clusters, objs, err := list(r)
	if err != nil {
		return nil, err
	}
	out := OperationList{Items: []Operation{}}
	for i, c := range clusters {
		u := objs[i]
		op := Operation{Namespace: c.Namespace, Cluster: c.Name}
		progressing, isProgressing := kube.Condition(c.Conditions, func(c Condition) bool { return c.Type == missioncontrol.ConditionProgressing })
		observed, _, _ := unstructured.NestedInt64(u.Object, "status", "observedGeneration")
		switch {
		case c.Deleting:
			op.Kind, op.Message, op.Since = "deleting", "the operator removes the cluster from its data planes", u.GetDeletionTimestamp().Time
			out.Items = append(out.Items, op)
			continue
		case observed < u.GetGeneration():
			op.Kind, op.Message, op.Since = "reconciling", "the operator has not yet picked up the latest change", c.Created
			out.Items = append(out.Items, op)
		}
		for _, reg := range c.Regions {
			for _, dc := range reg.Datacenters {
				dop := op
				dop.Datacenter, dop.Message = dc.Name, fmt.Sprintf("%d of %d nodes ready, %s", dc.NodesReady, dc.Size, dc.Progress)
				if isProgressing {
					dop.Since = progressing.LastTransitionTime
				}
				switch {
				case dc.Stopped && dc.NodesReady > 0:
					dop.Kind = "stopping"
				case dc.Stopped || dc.Ready:
					continue
				case dc.NodesReady == 0:
					dop.Kind = "starting"
				default:
					dop.Kind = "scaling"
				}
				out.Items = append(out.Items, dop)
			}
		}
	}
	return out, nil
}
