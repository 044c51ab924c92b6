package kube

import (
	"testing"
)

// FuzzRegistrationRESTConfig: whatever a registration's Secret holds, loading it neither panics
// nor yields a client that would run a command, call an identity provider plugin, read a file on
// this host or skip verifying the server.
func FuzzRegistrationRESTConfig(f *testing.F) {
	const head = "apiVersion: v1\nkind: Config\ncurrent-context: dp\ncontexts: [{name: dp, context: {cluster: dp, user: dp}}]\n"
	for _, seed := range []string{
		head + "clusters: [{name: dp, cluster: {server: 'https://10.0.0.1:6443', certificate-authority-data: Y2E=}}]\nusers: [{name: dp, user: {token: t}}]\n",
		head + "clusters: [{name: dp, cluster: {server: 'https://10.0.0.1:6443', insecure-skip-tls-verify: true}}]\nusers: [{name: dp, user: {token: t}}]\n",
		head + "clusters: [{name: dp, cluster: {server: 'https://10.0.0.1:6443', certificate-authority: /etc/ca.crt}}]\nusers: [{name: dp, user: {tokenFile: /t}}]\n",
		head + "clusters: [{name: dp, cluster: {server: 'https://10.0.0.1:6443'}}]\nusers: [{name: dp, user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: sh}}}]\n",
		head + "clusters: [{name: dp, cluster: {server: 'https://10.0.0.1:6443'}}]\nusers: [{name: dp, user: {auth-provider: {name: oidc}}}]\n",
		head + "clusters: [{name: dp, cluster: {server: 'https://10.0.0.1:6443'}}]\nusers: [{name: dp, user: {client-certificate: /c, client-key: /k}}]\n",
		`{"kind":"Config","clusters":[{"name":"a","cluster":{"server":"https://x"}}],"users":[{"name":"a","user":{"token":"t"}}],"contexts":[{"name":"a","context":{"cluster":"a","user":"a"}}],"current-context":"a"}`,
		"", "{", "clusters: 7",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := RegistrationRESTConfig(data, nil, 0)
		if err != nil {
			return
		}
		switch {
		case cfg.ExecProvider != nil:
			t.Errorf("accepted an exec plugin: %+v", cfg.ExecProvider)
		case cfg.AuthProvider != nil:
			t.Errorf("accepted an auth-provider: %+v", cfg.AuthProvider)
		case cfg.BearerTokenFile != "" || cfg.CertFile != "" || cfg.KeyFile != "" || cfg.CAFile != "":
			t.Errorf("accepted file paths: token %q, cert %q, key %q, CA %q", cfg.BearerTokenFile, cfg.CertFile, cfg.KeyFile, cfg.CAFile)
		case cfg.Insecure:
			t.Error("accepted insecure-skip-tls-verify")
		}
	})
}
