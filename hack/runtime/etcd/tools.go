//go:build tools

// Package tools pins the etcd command the runtime build compiles.
package tools

import _ "go.etcd.io/etcd/server/v3"
