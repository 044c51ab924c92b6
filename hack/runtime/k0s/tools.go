//go:build tools

// Package tools pins the k0s command the runtime build compiles.
package tools

import _ "github.com/k0sproject/k0s"
