//go:build e2e

package e2e

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/datastax/mission-control/api"
	"github.com/datastax/mission-control/installer"
	"github.com/datastax/mission-control/web/webtest"
)

// uiURL is the control plane's UI through its node port on loopback (the serving certificate
// names 127.0.0.1 beside the node's address): no address of this machine's network is used.
const uiURL = "https://127.0.0.1:30443"

// checkUI signs in to the control plane's UI as the first administrator (admin-token) and sees
// the cluster's datacenter Ready in the overview, after checking that the UI's certificate is the
// cluster CA's and that its API says the same.
func checkUI(t *testing.T, namespace, cluster, datacenter string, nodes int) {
	t.Helper()
	r := mc(t, "admin-token", "-o", "json")
	var signIn installer.SignIn
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &signIn) != nil || signIn.Token == "" || !strings.HasSuffix(signIn.URL, ":30443/") {
		t.Fatalf("admin-token: %s", r)
	}
	caPEM, err := os.ReadFile(filepath.Join(dataDir, "k0s", "pki", "ca.crt"))
	must(t, err)
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		t.Fatal("the cluster's CA is not PEM")
	}
	// Verified with the cluster's CA: the admin's workstation trusts the UI as it trusts the API.
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	var got api.Cluster
	deadline := time.Now().Add(3 * time.Minute)
	for {
		req, _ := http.NewRequest("GET", uiURL+"/api/v1/namespaces/"+namespace+"/clusters/"+cluster, nil)
		req.Header.Set("Authorization", "Bearer "+signIn.Token)
		res, err := client.Do(req)
		if err == nil {
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode == 200 && json.Unmarshal(body, &got) == nil && got.Ready {
				break
			}
			err = fmt.Errorf("%d: %s", res.StatusCode, body)
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET the cluster through the UI's API at %s: %v", uiURL, err)
		}
		time.Sleep(2 * time.Second)
	}
	if len(got.Regions) != 1 || got.Regions[0].Datacenters[0].Name != datacenter || int(got.NodesReady) != nodes {
		t.Fatalf("the API's view of %s/%s: %+v", namespace, cluster, got)
	}

	ctx := webtest.Browser(t, uiURL, true) // its certificate was verified above
	if ctx == nil {
		return
	}
	webtest.SignIn(t, ctx, uiURL, signIn.Token)
	card := `[data-cluster="` + namespace + "/" + cluster + `"]`
	row := card + ` [data-region="Control plane"] [data-datacenter="` + datacenter + `"]`
	webtest.Do(t, ctx, "the overview shows "+datacenter+" Ready",
		chromedp.WaitVisible(chromedp.CSS(row)),
		webtest.WaitText(row, "Ready"),
		webtest.WaitText(row, fmt.Sprintf("%d/%d", nodes, nodes)),
		webtest.WaitText(card+" header", "Ready"))
	webtest.Screenshot(t, ctx, "overview-datacenter-ready")
}
