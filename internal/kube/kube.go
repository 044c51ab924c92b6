// Package kube holds the Kubernetes client helpers every cluster-facing package shares: building
// a REST config from a kubeconfig, and finding a condition in an object's status.
package kube

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// RESTConfig is the client configuration of a kubeconfig, for the first context (by name) that
// isContext accepts, or its current context when none does or isContext is nil. Each request is
// bounded by timeout; 0 leaves requests to their contexts' deadlines.
func RESTConfig(kubeconfig []byte, isContext func(name string) bool, timeout time.Duration) (*rest.Config, error) {
	if len(kubeconfig) == 0 {
		return nil, errors.New("the kubeconfig is empty")
	}
	raw, err := clientcmd.Load(kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("parse kubeconfig: %w", err)
	}
	overrides := &clientcmd.ConfigOverrides{}
	if isContext != nil {
		names := make([]string, 0, len(raw.Contexts))
		for name := range raw.Contexts {
			names = append(names, name)
		}
		slices.Sort(names)
		if i := slices.IndexFunc(names, isContext); i >= 0 {
			overrides.CurrentContext = names[i]
		}
	}
	cfg, err := clientcmd.NewNonInteractiveClientConfig(*raw, overrides.CurrentContext, overrides, nil).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	cfg.Timeout = timeout
	return cfg, nil
}

// RESTConfigFile is RESTConfig of the kubeconfig file at path (the runtime's admin kubeconfig or
// the one install publishes), with its current context.
func RESTConfigFile(path string, timeout time.Duration) (*rest.Config, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no kubeconfig at %s: the runtime was never started, or mission-control is not installed there", path)
	}
	if err != nil {
		return nil, fmt.Errorf("read kubeconfig %s: %w", path, err)
	}
	cfg, err := RESTConfig(data, nil, timeout)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// Condition finds the condition that is reports as the one sought among an object's status
// conditions, whatever API group's condition type they have.
func Condition[C any](conditions []C, is func(C) bool) (C, bool) {
	if i := slices.IndexFunc(conditions, is); i >= 0 {
		return conditions[i], true
	}
	var none C
	return none, false
}
