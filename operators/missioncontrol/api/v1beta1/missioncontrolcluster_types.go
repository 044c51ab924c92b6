package v1beta1

import (
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// MissionControlClusterSpec is a Cassandra cluster across the data planes its datacenters name.
type MissionControlClusterSpec struct {
	// CreateIssuer makes the operator create the certificate issuer the cluster's certificates
	// come from.
	// +optional
	CreateIssuer bool `json:"createIssuer,omitempty"`

	// Encryption configures internode encryption.
	// +optional
	Encryption *EncryptionSpec `json:"encryption,omitempty"`

	// K8ssandra is the K8ssandraCluster spec the datacenters are created from, in the data planes
	// their k8sContext names.
	K8ssandra K8ssandraClusterTemplate `json:"k8ssandra"`

	// PrefixDcs prefixes the datacenters' names with the cluster's.
	// +optional
	PrefixDcs bool `json:"prefixDcs,omitempty"`

	// DataAPI configures the Data API.
	// +optional
	// +kubebuilder:pruning:PreserveUnknownFields
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:validation:Type=object
	DataAPI *apiextensionsv1.JSON `json:"dataApi,omitempty"`
}

// EncryptionSpec configures encryption.
type EncryptionSpec struct {
	// +optional
	InternodeEncryption *InternodeEncryption `json:"internodeEncryption,omitempty"`
}

// InternodeEncryption configures TLS between Cassandra nodes.
type InternodeEncryption struct {
	// Enabled turns internode TLS on.
	// +optional
	Enabled bool `json:"enabled,omitempty"`
	// +optional
	Certs *CertsSpec `json:"certs,omitempty"`
}

// CertsSpec says where internode certificates come from.
type CertsSpec struct {
	// CreateCerts makes the operator issue the certificates.
	// +optional
	CreateCerts bool `json:"createCerts,omitempty"`
	// IssuerRef names the issuer to use instead of the one createIssuer makes.
	// +optional
	IssuerRef *IssuerRef `json:"issuerRef,omitempty"`
	// CertTemplate sets the certificates' lifetime.
	// +optional
	CertTemplate *CertTemplate `json:"certTemplate,omitempty"`
}

// IssuerRef names a certificate issuer.
type IssuerRef struct {
	Name string `json:"name"`
	// +optional
	Kind string `json:"kind,omitempty"`
}

// CertTemplate sets certificate lifetimes.
type CertTemplate struct {
	// +optional
	Duration *metav1.Duration `json:"duration,omitempty"`
	// +optional
	RenewBefore *metav1.Duration `json:"renewBefore,omitempty"`
}

// K8ssandraClusterTemplate is the K8ssandraCluster spec. The fields mission-control reads are
// typed; every other K8ssandraCluster field is kept as written and passed on unchanged.
//
// +kubebuilder:pruning:PreserveUnknownFields
type K8ssandraClusterTemplate struct {
	// +optional
	Auth *bool `json:"auth,omitempty"`
	// +optional
	Cassandra *CassandraClusterTemplate `json:"cassandra,omitempty"`
}

// CassandraClusterTemplate is the K8ssandraCluster's cassandra section.
//
// +kubebuilder:pruning:PreserveUnknownFields
type CassandraClusterTemplate struct {
	// +optional
	ServerType string `json:"serverType,omitempty"`
	// +optional
	// +kubebuilder:validation:Pattern=`^\d+\.\d+\.\d+$`
	ServerVersion string `json:"serverVersion,omitempty"`
	// Datacenters, each in the data plane its k8sContext names.
	// +kubebuilder:validation:MinItems=1
	Datacenters []DatacenterTemplate `json:"datacenters"`
}

// DatacenterTemplate is one datacenter of the cluster.
//
// +kubebuilder:pruning:PreserveUnknownFields
type DatacenterTemplate struct {
	Meta DatacenterMeta `json:"metadata"`
	// K8sContext names the data plane (a registered ClientConfig's context); empty is the control
	// plane itself.
	// +optional
	K8sContext string `json:"k8sContext,omitempty"`
	// +kubebuilder:validation:Minimum=1
	Size int32 `json:"size"`
	// +optional
	Stopped bool `json:"stopped,omitempty"`
}

// DatacenterMeta names a datacenter.
//
// +kubebuilder:pruning:PreserveUnknownFields
type DatacenterMeta struct {
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`
	Name string `json:"name"`
}

// MissionControlClusterStatus is what the operator observed.
type MissionControlClusterStatus struct {
	// ObservedGeneration is the spec generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Conditions: Ready, Progressing, Degraded, CertificatesReady, DataPlanesReachable.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
	// Datacenters as their data planes report them.
	// +optional
	Datacenters []DatacenterStatus `json:"datacenters,omitempty"`
	// Targets are the clusters the operator has written to, by normalized context name ("" is
	// the control plane itself): deletion cleans up in each, even after the spec stopped naming it.
	// +optional
	Targets []string `json:"targets,omitempty"`
}

// DatacenterStatus is one datacenter's state in its data plane.
type DatacenterStatus struct {
	Name    string `json:"name"`
	Context string `json:"context,omitempty"`
	Size    int32  `json:"size"`
	// +optional
	ReadyReplicas int32 `json:"readyReplicas"`
	// +optional
	Progress string `json:"progress,omitempty"`
	// +optional
	Stopped bool `json:"stopped,omitempty"`
}

// MissionControlCluster is a multi-region Cassandra cluster managed from the control plane.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=mcc,categories=missioncontrol
// +kubebuilder:printcolumn:name="Datacenters",type=string,JSONPath=`.status.datacenters[*].name`
// +kubebuilder:printcolumn:name="Contexts",type=string,JSONPath=`.status.datacenters[*].context`,priority=1
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reachable",type=string,JSONPath=`.status.conditions[?(@.type=="DataPlanesReachable")].status`
// +kubebuilder:printcolumn:name="Message",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].message`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type MissionControlCluster struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   MissionControlClusterSpec   `json:"spec,omitempty"`
	Status MissionControlClusterStatus `json:"status,omitempty"`
}

// MissionControlClusterList is a list of MissionControlClusters.
//
// +kubebuilder:object:root=true
type MissionControlClusterList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []MissionControlCluster `json:"items"`
}
