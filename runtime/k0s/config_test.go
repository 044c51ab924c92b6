package k0s

import (
	"net/netip"
	"strconv"
	"strings"
	"testing"

	k0sapi "github.com/k0sproject/k0s/pkg/apis/k0s/v1beta1"

	"github.com/datastax/mission-control/internal/datadir"
)

func TestRenderReadsBackInK0s(t *testing.T) {
	c := Config{
		PodCIDR:     netip.MustParsePrefix("10.50.0.0/17"),
		ServiceCIDR: netip.MustParsePrefix("10.50.128.0/17"),
		NodeAddress: netip.MustParseAddr("192.0.2.2"),
	}
	out, err := c.Render()
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := k0sapi.ConfigFromBytes(out)
	if err != nil {
		t.Fatalf("k0s cannot read the rendered config: %v\n%s", err, out)
	}
	s := cfg.Spec
	checks := map[string][2]string{
		"network.podCIDR":            {s.Network.PodCIDR, "10.50.0.0/17"},
		"network.serviceCIDR":        {s.Network.ServiceCIDR, "10.50.128.0/17"},
		"network.provider":           {s.Network.Provider, "custom"},
		"api.address":                {s.API.Address, "192.0.2.2"},
		"storage.type":               {string(s.Storage.Type), "etcd"},
		"storage.etcd.peerAddress":   {s.Storage.Etcd.PeerAddress, "192.0.2.2"},
		"images.default_pull_policy": {s.Images.DefaultPullPolicy, "Never"},
		"images.pause":               {s.Images.Pause.URI(), PauseImage + ":" + PauseVersion},
		"api.port (k0s default)":     {strconv.Itoa(s.API.Port), "6443"},
	}
	for field, v := range checks {
		if v[0] != v[1] {
			t.Errorf("%s = %q, want %q", field, v[0], v[1])
		}
	}
	if s.Telemetry.IsEnabled() {
		t.Error("telemetry is enabled")
	}
	// The images cannot be pulled again: the kubelet must never collect them.
	if len(s.WorkerProfiles) != 1 || s.WorkerProfiles[0].Name != "default" || !strings.Contains(string(s.WorkerProfiles[0].Config.Raw), `"imageGCHighThresholdPercent":100`) {
		t.Errorf("worker profiles = %+v, want the default one with image garbage collection off", s.WorkerProfiles)
	}
	if !strings.Contains(strings.Join(s.API.SANs, ","), "192.0.2.2") {
		t.Errorf("SANs %v lack the node address", s.API.SANs)
	}
}

func TestRenderNeedsThePlan(t *testing.T) {
	if _, err := (Config{NodeAddress: netip.MustParseAddr("192.0.2.2")}).Render(); err == nil {
		t.Fatal("rendered a config without network ranges")
	}
}

func TestLayout(t *testing.T) {
	l := datadir.Layout{DataDir: "/var/lib/mission-control"}
	if l.ConfigFile() != "/var/lib/mission-control/etc/k0s.yaml" || l.K0sDataDir() != "/var/lib/mission-control/k0s" {
		t.Errorf("layout = %s, %s", l.ConfigFile(), l.K0sDataDir())
	}
}

func TestRenderTrustsTheOIDCIssuer(t *testing.T) {
	c := Config{PodCIDR: netip.MustParsePrefix("10.0.0.0/17"), ServiceCIDR: netip.MustParsePrefix("10.0.128.0/17"), NodeAddress: netip.MustParseAddr("192.0.2.2"),
		OIDC: &OIDC{IssuerURL: "https://sso.example.com", ClientID: "mc", UsernameClaim: "email", GroupsClaim: "groups", CA: "PEM"}, OIDCCAFile: "/var/lib/mc/etc/oidc-ca.crt"}
	out, err := c.Render()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"oidc-issuer-url: https://sso.example.com", "oidc-client-id: mc", "oidc-username-claim: email", "oidc-username-prefix: 'oidc:'",
		"oidc-groups-claim: groups", "oidc-groups-prefix: 'oidc:'", "oidc-ca-file: /var/lib/mc/etc/oidc-ca.crt"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the config does not have %q:\n%s", want, out)
		}
	}
	c.OIDC.CA, c.OIDC.GroupsClaim = "", ""
	out, _ = c.Render()
	if strings.Contains(string(out), "oidc-ca-file") || strings.Contains(string(out), "oidc-groups") {
		t.Errorf("without a CA and groups the config still names them:\n%s", out)
	}
	facts := JoinFacts{LicenseID: "L", Mode: "control-plane", PodCIDR: "10.0.0.0/17", ServiceCIDR: "10.0.128.0/17", Version: "v1", OIDC: c.OIDC}
	back, err := JoinFactsFrom(facts.Data())
	if err != nil || *back.OIDC != *c.OIDC {
		t.Errorf("the join facts' issuer read back: %+v, %v", back.OIDC, err)
	}
}
