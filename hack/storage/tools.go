//go:build tools

// Package tools pins the local-path-provisioner command the build compiles.
package tools

import _ "github.com/rancher/local-path-provisioner"
