//go:build tools

// Package tools pins the cass-operator command the build compiles and the API packages its CRDs
// are generated from.
package tools

import (
	_ "github.com/k8ssandra/cass-operator/apis/cassandra/v1beta1"
	_ "github.com/k8ssandra/cass-operator/apis/control/v1alpha1"
	_ "github.com/k8ssandra/cass-operator/cmd"
)
