// Package v1beta1 is the MissionControlCluster API, missioncontrol.datastax.com/v1beta1: the
// documented group, version, kind and field names, so that the product docs' manifests apply
// unchanged.
//
// +kubebuilder:object:generate=true
// +groupName=missioncontrol.datastax.com
package v1beta1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

var (
	// GroupVersion is the API's group and version.
	GroupVersion = schema.GroupVersion{Group: "missioncontrol.datastax.com", Version: "v1beta1"}

	// SchemeBuilder registers the API's types with a scheme.
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}

	// AddToScheme adds the API's types to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)
