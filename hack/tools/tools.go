//go:build tools

// Package tools pins controller-gen, which generates the charts' CRDs (make generate).
package tools

import _ "sigs.k8s.io/controller-tools/cmd/controller-gen"
