package kube

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

func kubeconfig(t *testing.T, current string, servers map[string]string) []byte {
	t.Helper()
	kc := clientcmdapi.NewConfig()
	for name, server := range servers {
		kc.Clusters[name] = &clientcmdapi.Cluster{Server: server}
		kc.AuthInfos[name] = &clientcmdapi.AuthInfo{Token: "t"}
		kc.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: name}
	}
	kc.CurrentContext = current
	data, err := clientcmd.Write(*kc)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestRESTConfigPicksTheContext(t *testing.T) {
	data := kubeconfig(t, "b", map[string]string{"a": "https://192.0.2.1:6443", "b": "https://192.0.2.2:6443", "c": "https://192.0.2.3:6443"})
	for _, tt := range []struct {
		name      string
		isContext func(string) bool
		want      string
	}{
		{"current when none is sought", nil, "https://192.0.2.2:6443"},
		{"the one accepted", func(n string) bool { return n == "c" }, "https://192.0.2.3:6443"},
		{"the first by name of several accepted", func(n string) bool { return n != "b" }, "https://192.0.2.1:6443"},
		{"current when none is accepted", func(string) bool { return false }, "https://192.0.2.2:6443"},
	} {
		cfg, err := RESTConfig(data, tt.isContext, 7*time.Second)
		if err != nil || cfg.Host != tt.want || cfg.Timeout != 7*time.Second {
			t.Errorf("%s: got %v, %v; want host %s, timeout 7s", tt.name, cfg, err, tt.want)
		}
	}
	for _, bad := range [][]byte{nil, []byte("{not yaml"), kubeconfig(t, "", nil)} {
		if _, err := RESTConfig(bad, nil, 0); err == nil {
			t.Errorf("RESTConfig(%q) accepted it", bad)
		}
	}
}

func TestRESTConfigFileNamesAMissingFile(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "kubeconfig")
	if _, err := RESTConfigFile(missing, time.Second); err == nil || !strings.Contains(err.Error(), "no kubeconfig at "+missing) {
		t.Errorf("missing file: %v", err)
	}
	if err := os.WriteFile(missing, kubeconfig(t, "a", map[string]string{"a": "https://192.0.2.1:6443"}), 0o600); err != nil {
		t.Fatal(err)
	}
	if cfg, err := RESTConfigFile(missing, time.Second); err != nil || cfg.Host != "https://192.0.2.1:6443" {
		t.Errorf("RESTConfigFile = %v, %v", cfg, err)
	}
}

func TestCondition(t *testing.T) {
	conds := []corev1.NodeCondition{{Type: corev1.NodeMemoryPressure}, {Type: corev1.NodeReady, Status: corev1.ConditionTrue}}
	ready := func(c corev1.NodeCondition) bool { return c.Type == corev1.NodeReady }
	if c, ok := Condition(conds, ready); !ok || c.Status != corev1.ConditionTrue {
		t.Errorf("Condition = %v, %v", c, ok)
	}
	if _, ok := Condition(conds[:1], ready); ok {
		t.Error("found a condition that is not there")
	}
}
