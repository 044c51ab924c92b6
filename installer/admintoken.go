package installer

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/datastax/mission-control/charts"
	"github.com/datastax/mission-control/internal/datadir"
	"github.com/datastax/mission-control/internal/host"
)

// AdminAccount is the ServiceAccount of the first administrator, bound by the chart to the
// mission-control-admin ClusterRole.
const AdminAccount = "mission-control-admin"

// SignIn is how the first administrator signs in to the UI: where, and with what token.
type SignIn struct {
	URL     string    `json:"url"`
	User    string    `json:"user"`
	Token   string    `json:"token"`
	Expires time.Time `json:"expires"`
}

// AdminToken issues a token of AdminAccount, valid for lifetime, on a control plane's controller.
func AdminToken(ctx context.Context, h host.Host, dataDir string, lifetime time.Duration) (SignIn, error) {
	if lifetime < 10*time.Minute || lifetime > 7*24*time.Hour {
		return SignIn{}, fmt.Errorf("--duration %s: give between 10m and 168h (e.g. --duration 8h)", lifetime)
	}
	l := datadir.Layout{DataDir: dataDir}
	client, err := controllerClient(h, l, "admin-token")
	if err != nil {
		return SignIn{}, err
	}
	state, err := LoadState(h, l)
	if err != nil {
		return SignIn{}, err
	}
	if state.Mode != ModeControlPlane {
		return SignIn{}, errors.New("this cluster is a data plane: the Mission Control UI and API run on its control plane; run admin-token there")
	}
	node, err := uiAddress(state)
	if err != nil {
		return SignIn{}, err
	}
	seconds := int64(lifetime.Seconds())
	tr, err := client.CoreV1().ServiceAccounts(charts.Namespace).CreateToken(ctx, AdminAccount,
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &seconds}}, metav1.CreateOptions{})
	if err != nil {
		return SignIn{}, fmt.Errorf("issue a token of %s/%s (see mission-control status): %w", charts.Namespace, AdminAccount, err)
	}
	return SignIn{URL: APIURL(node), User: "system:serviceaccount:" + charts.Namespace + ":" + AdminAccount,
		Token: tr.Status.Token, Expires: tr.Status.ExpirationTimestamp.Time}, nil
}

// uiAddress is the node address the API's certificate names: the first controller's.
func uiAddress(s State) (netip.Addr, error) {
	if s.Joined && s.Controller != "" {
		u, err := url.Parse(s.Controller)
		if err == nil {
			if a, err := netip.ParseAddr(u.Hostname()); err == nil {
				return a, nil
			}
		}
		return netip.Addr{}, fmt.Errorf("the install state names the cluster's API as %q, not an address", s.Controller)
	}
	a, err := netip.ParseAddr(s.NodeAddress)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("the install state has no node address (%q): %w", s.NodeAddress, err)
	}
	return a, nil
}
