package api

import (
	"encoding/json"
	"time"
)

// The API's documents. openapi.json describes each by the same name; TestOpenAPIMatchesTheTypes
// keeps the two in step.

// Session is who the signed-in user is, as Kubernetes authenticated their token.
type Session struct {
	User   string   `json:"user"`
	Groups []string `json:"groups"`
}

// SignIn is the body of POST /api/v1/session: a Kubernetes bearer token (a ServiceAccount token,
// or an OIDC ID token when the API server trusts an issuer).
type SignIn struct {
	Token string `json:"token"`
}

// Cluster is a MissionControlCluster as the overview shows it: its datacenters grouped by the
// data plane they run in (a region), each with its nodes ready out of its size.
type Cluster struct {
	Namespace       string    `json:"namespace"`
	Name            string    `json:"name"`
	ResourceVersion string    `json:"resourceVersion"`
	Created         time.Time `json:"created"`
	// Deleting is set from the moment a delete is accepted until the operator has cleaned up.
	Deleting      bool   `json:"deleting"`
	ServerType    string `json:"serverType"`
	ServerVersion string `json:"serverVersion"`
	// Stopped: every datacenter is asked to stop.
	Stopped bool `json:"stopped"`
	// Ready is the cluster's Ready condition.
	Ready      bool        `json:"ready"`
	NodesReady int32       `json:"nodesReady"`
	Nodes      int32       `json:"nodes"`
	Conditions []Condition `json:"conditions"`
	Regions    []Region    `json:"regions"`
	// Spec is the MissionControlCluster's spec as stored.
	Spec json.RawMessage `json:"spec"`
}

// Region is the datacenters of one cluster in one data plane.
type Region struct {
	// DataPlaneContext names the registered data plane; empty is the control plane itself.
	DataPlaneContext string       `json:"dataPlaneContext"`
	NodesReady       int32        `json:"nodesReady"`
	Nodes            int32        `json:"nodes"`
	Datacenters      []Datacenter `json:"datacenters"`
}

// Datacenter is one datacenter's desired size and what its data plane reports.
type Datacenter struct {
	Name             string `json:"name"`
	DataPlaneContext string `json:"dataPlaneContext"`
	Size             int32  `json:"size"`
	Stopped          bool   `json:"stopped"`
	NodesReady       int32  `json:"nodesReady"`
	// Progress is cass-operator's (Pending, Updating, Ready), or Unreachable.
	Progress string `json:"progress"`
	Ready    bool   `json:"ready"`
}

// Condition is one of the MissionControlCluster's status conditions.
type Condition struct {
	Type               string    `json:"type"`
	Status             string    `json:"status"`
	Reason             string    `json:"reason"`
	Message            string    `json:"message"`
	LastTransitionTime time.Time `json:"lastTransitionTime"`
}

// ClusterList is GET /api/v1/clusters.
type ClusterList struct {
	Items []Cluster `json:"items"`
}

// NewCluster is the body of POST /api/v1/clusters: a MissionControlCluster's namespace, name and
// spec (the same fields as `kubectl apply` takes).
type NewCluster struct {
	Namespace string          `json:"namespace"`
	Name      string          `json:"name"`
	Spec      json.RawMessage `json:"spec"`
}

// ClusterChange is the body of PATCH .../clusters/NAME: what to change, nothing else. Every other
// field of the MissionControlCluster is kept as stored.
type ClusterChange struct {
	// ResourceVersion, when set, makes the change fail with 409 if the cluster changed since.
	ResourceVersion string `json:"resourceVersion,omitempty"`
	// Stopped stops (true) or starts (false) every datacenter.
	Stopped *bool `json:"stopped,omitempty"`
	// Datacenters, when set, is the whole list wanted: a datacenter named here and stored keeps
	// its other fields, one not stored is added, one stored and not named is removed.
	Datacenters []DatacenterChange `json:"datacenters,omitempty"`
}

// DatacenterChange is one datacenter of ClusterChange.Datacenters.
type DatacenterChange struct {
	Name             string `json:"name"`
	DataPlaneContext string `json:"dataPlaneContext"`
	Size             int32  `json:"size"`
	Stopped          *bool  `json:"stopped,omitempty"`
}

// DataPlane is a registered data plane (a ClientConfig) and whether it answers now.
type DataPlane struct {
	Name             string   `json:"name"`
	DataPlaneContext string   `json:"dataPlaneContext"`
	Namespaces       []string `json:"namespaces"`
	Server           string   `json:"server"`
	Answers          bool     `json:"answers"`
	// User is who the data plane says the registration's credential is, when it answers.
	User string `json:"user"`
	// Error says why it does not answer.
	Error string `json:"error"`
}

// DataPlaneList is GET /api/v1/dataplanes.
type DataPlaneList struct {
	Items []DataPlane `json:"items"`
}

// Operation is work in flight on a cluster: what the operator and the data planes are doing now.
type Operation struct {
	Namespace string `json:"namespace"`
	Cluster   string `json:"cluster"`
	// Datacenter is empty for an operation on the whole cluster.
	Datacenter string `json:"datacenter"`
	// Kind is deleting, reconciling (a change not yet picked up), stopping, starting or scaling.
	Kind    string    `json:"kind"`
	Message string    `json:"message"`
	Since   time.Time `json:"since"`
}

// OperationList is GET /api/v1/operations.
type OperationList struct {
	Items []Operation `json:"items"`
}

// Error is every error's body.
type Error struct {
	Status int    `json:"status"`
	Error  string `json:"error"`
}
