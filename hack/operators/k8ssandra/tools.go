//go:build tools

// Package tools pins the k8ssandra-operator command the build compiles; its CRDs are generated
// from its apis/... packages.
package tools

import _ "github.com/k8ssandra/k8ssandra-operator"
