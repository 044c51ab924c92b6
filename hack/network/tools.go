//go:build tools

// Package tools pins the kube-router command the build compiles.
package tools

import _ "github.com/cloudnativelabs/kube-router/v2/cmd/kube-router"
