// Package version identifies this build of mission-control. The Makefile sets the variables at
// link time; a plain go build reports "dev".
package version

import "runtime"

var (
	// Version is the release version, e.g. v1.2.0, or git describe output for development builds.
	Version = "dev"
	// Commit is the source commit the binary was built from.
	Commit = "unknown"
)

// GoVersion is the Go toolchain the binary was built with.
func GoVersion() string { return runtime.Version() }
