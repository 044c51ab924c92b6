package contract

import (
	"testing"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

func TestNormalizeContext(t *testing.T) {
	for in, want := range map[string]string{"DP_WEST": "dp-west", "dp-west": "dp-west", "CP.East_1": "cp-east-1", "_x_": "x", "": ""} {
		if got := NormalizeContext(in); got != want {
			t.Errorf("NormalizeContext(%q) = %q, want %q", in, got, want)
		}
	}
}

// A registration's kubeconfig is read with the context named like the registration (as written
// or in DNS form), else its current one.
func TestRESTConfigPicksTheRegistrationsContext(t *testing.T) {
	kc := clientcmdapi.NewConfig()
	for name, server := range map[string]string{"DP_WEST": "https://192.0.2.10:6443", "other": "https://192.0.2.20:6443"} {
		kc.Clusters[name] = &clientcmdapi.Cluster{Server: server}
		kc.AuthInfos[name] = &clientcmdapi.AuthInfo{Token: "t"}
		kc.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: name}
	}
	kc.CurrentContext = "other"
	data, err := clientcmd.Write(*kc)
	if err != nil {
		t.Fatal(err)
	}
	for context, want := range map[string]string{"DP_WEST": "https://192.0.2.10:6443", "dp-west": "https://192.0.2.10:6443", "unknown": "https://192.0.2.20:6443"} {
		cfg, err := RESTConfig(data, context)
		if err != nil || cfg.Host != want {
			t.Errorf("RESTConfig(%s) = %v, %v; want host %s", context, cfg, err, want)
		}
	}
	if _, err := RESTConfig(nil, "DP_WEST"); err == nil {
		t.Error("an empty kubeconfig was accepted")
	}
}

func TestOperators(t *testing.T) {
	if cp, dp := Operators(true), Operators(false); len(cp) != 3 || len(dp) != 2 || cp[2] != MissionControlOperator {
		t.Errorf("control plane %v, data plane %v", cp, dp)
	}
}
