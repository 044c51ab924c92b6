package supportbundle

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"slices"
	"text/tabwriter"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// volumesFile is the bundle's table of the cluster's claims and volumes.
const volumesFile = "storage/volumes.txt"

// volumeTable lists every claim with its volume, node and path on that node, then the volumes
// no claim holds: what a reader of the bundle asks first about data.
func volumeTable(ctx context.Context, client kubernetes.Interface) ([]byte, error) {
	pvs, err := client.CoreV1().PersistentVolumes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list the volumes: %w", err)
	}
	pvcs, err := client.CoreV1().PersistentVolumeClaims("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list the claims: %w", err)
	}
	byName := map[string]corev1.PersistentVolume{}
	for _, pv := range pvs.Items {
		byName[pv.Name] = pv
	}
	slices.SortFunc(pvcs.Items, func(a, b corev1.PersistentVolumeClaim) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	var b bytes.Buffer
	w := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "CLAIM\tSTATUS\tVOLUME\tCAPACITY\tCLASS\tNODE\tPATH")
	claimed := map[string]bool{}
	for _, c := range pvcs.Items {
		pv, ok := byName[c.Spec.VolumeName]
		claimed[c.Spec.VolumeName] = ok
		capacity := c.Spec.Resources.Requests[corev1.ResourceStorage]
		if ok {
			capacity = pv.Spec.Capacity[corev1.ResourceStorage]
		}
		fmt.Fprintf(w, "%s/%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c.Namespace, c.Name, c.Status.Phase, dash(c.Spec.VolumeName),
			capacity.String(), dash(ptrString(c.Spec.StorageClassName)), dash(volumeNode(pv)), dash(volumePath(pv)))
	}
	slices.SortFunc(pvs.Items, func(a, b corev1.PersistentVolume) int { return cmp.Compare(a.Name, b.Name) })
	for _, pv := range pvs.Items {
		if claimed[pv.Name] {
			continue
		}
		capacity := pv.Spec.Capacity[corev1.ResourceStorage]
		fmt.Fprintf(w, "-\t%s\t%s\t%s\t%s\t%s\t%s\n", pv.Status.Phase, pv.Name, capacity.String(), dash(pv.Spec.StorageClassName), dash(volumeNode(pv)), dash(volumePath(pv)))
	}
	if err := w.Flush(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// volumeNode is the node a volume's node affinity pins it to.
func volumeNode(pv corev1.PersistentVolume) string {
	if pv.Spec.NodeAffinity == nil || pv.Spec.NodeAffinity.Required == nil {
		return ""
	}
	for _, term := range pv.Spec.NodeAffinity.Required.NodeSelectorTerms {
		for _, e := range term.MatchExpressions {
			if e.Key == corev1.LabelHostname && e.Operator == corev1.NodeSelectorOpIn && len(e.Values) == 1 {
				return e.Values[0]
			}
		}
	}
	return ""
}

// volumePath is where on its node a volume's data lives.
func volumePath(pv corev1.PersistentVolume) string {
	switch {
	case pv.Spec.HostPath != nil:
		return pv.Spec.HostPath.Path
	case pv.Spec.Local != nil:
		return pv.Spec.Local.Path
	}
	return ""
}

func ptrString(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func dash(s string) string { return cmp.Or(s, "-") }
