// Package v1beta1 is the MissionControlCluster API, missioncontrol.datastax.com/v1beta1: the
// documented group, version, kind and field names, so that the product docs' manifests apply
// unchanged.
//
// +kubebuilder:object:generate=true
// +groupName=missioncontrol.datastax.com
package v1beta1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var (
	// GroupVersion is the API's group and version.
	GroupVersion = schema.GroupVersion{Group: "missioncontrol.datastax.com", Version: "v1beta1"}

	// SchemeBuilder registers the API's types with a scheme.
	SchemeBuilder = runtime.NewSchemeBuilder(addKnownTypes)

	// AddToScheme adds the API's types to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

func addKnownTypes(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion, &MissionControlCluster{}, &MissionControlClusterList{})
	metav1.AddToGroupVersion(s, GroupVersion)
	return nil
}
