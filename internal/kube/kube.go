// Package kube holds the Kubernetes client helpers every cluster-facing package shares: building
// a REST config from a kubeconfig, and finding a condition in an object's status.
package kube

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"slices"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// RESTConfig is the client configuration of a kubeconfig, for the first context (by name) that
// isContext accepts, or its current context when none does or isContext is nil. Each request is
// bounded by timeout; 0 leaves requests to their contexts' deadlines.
func RESTConfig(kubeconfig []byte, isContext func(name string) bool, timeout time.Duration) (*rest.Config, error) {
	raw, err := load(kubeconfig)
	if err != nil {
		return nil, err
	}
	return restConfig(raw, isContext, timeout)
}

func load(kubeconfig []byte) (*clientcmdapi.Config, error) {
	if len(kubeconfig) == 0 {
		return nil, errors.New("the kubeconfig is empty")
	}
	raw, err := clientcmd.Load(kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("parse kubeconfig: %w", err)
	}
	return raw, nil
}

// RegistrationRESTConfig is RESTConfig of a kubeconfig that reaches another cluster for the
// platform (a data plane's registration): it must hold its credential and CA inline and verify
// the server. A kubeconfig with any of the fields that would run a command, reach an identity
// provider, read a file on this host or skip verification is refused, the field named.
func RegistrationRESTConfig(kubeconfig []byte, isContext func(name string) bool, timeout time.Duration) (*rest.Config, error) {
	raw, err := load(kubeconfig)
	if err != nil {
		return nil, err
	}
	if err := CheckSelfContained(raw); err != nil {
		return nil, err
	}
	return restConfig(raw, isContext, timeout)
}

// UnsafeKubeconfigError is CheckSelfContained's refusal: the field, and why it is refused.
type UnsafeKubeconfigError struct{ Field, Why string }

func (e *UnsafeKubeconfigError) Error() string {
	return fmt.Sprintf("the kubeconfig sets %s, which %s: only inline credentials (token, client-certificate-data, client-key-data) and an inline CA (certificate-authority-data) are accepted; register the data plane again with mcctl register", e.Field, e.Why)
}

// CheckSelfContained refuses a kubeconfig that is not safe to use on another's behalf, naming the
// first offending field (in name order): exec and auth-provider plugins, token, certificate and
// key files, a CA file, insecure-skip-tls-verify.
func CheckSelfContained(raw *clientcmdapi.Config) error {
	for _, name := range slices.Sorted(maps.Keys(raw.AuthInfos)) {
		u := raw.AuthInfos[name]
		field := fmt.Sprintf("users[%q].user.", name)
		switch {
		case u.Exec != nil:
			return &UnsafeKubeconfigError{field + "exec", "runs a command on this host"}
		case u.AuthProvider != nil:
			return &UnsafeKubeconfigError{field + "auth-provider", "calls an identity provider plugin"}
		case u.TokenFile != "":
			return &UnsafeKubeconfigError{field + "tokenFile", "reads a file on this host"}
		case u.ClientCertificate != "":
			return &UnsafeKubeconfigError{field + "client-certificate", "reads a file on this host"}
		case u.ClientKey != "":
			return &UnsafeKubeconfigError{field + "client-key", "reads a file on this host"}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(raw.Clusters)) {
		c := raw.Clusters[name]
		field := fmt.Sprintf("clusters[%q].cluster.", name)
		switch {
		case c.InsecureSkipTLSVerify:
			return &UnsafeKubeconfigError{field + "insecure-skip-tls-verify", "lets anyone who can intercept the connection take the credential"}
		case c.CertificateAuthority != "":
			return &UnsafeKubeconfigError{field + "certificate-authority", "reads a file on this host"}
		}
	}
	return nil
}

func restConfig(raw *clientcmdapi.Config, isContext func(name string) bool, timeout time.Duration) (*rest.Config, error) {
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
