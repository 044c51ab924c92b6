package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/datastax/mission-control/api/apitest"
	"github.com/datastax/mission-control/operators/missioncontrol/api/v1beta1"
	"github.com/datastax/mission-control/web/webtest"
)

// TestUI drives the UI in headless chromium against the API on a real API server: sign in,
// create a cluster through the form with a Data Plane Context, watch it in the overview, modify,
// stop and delete it, the data planes page, errors in place, a phone's screen. Screenshots are
// saved as the test's artifacts (make unit keeps them under bin/test-artifacts).
func TestUI(t *testing.T) {
	e := apitest.Start(t)
	if e == nil {
		return
	}
	ctx := webtest.Browser(t, e.URL, false)
	if ctx == nil {
		return
	}
	key := client.ObjectKey{Namespace: "demo", Name: "web-demo"}
	mcc := func() *v1beta1.MissionControlCluster {
		m := &v1beta1.MissionControlCluster{}
		if err := e.CP.Get(context.Background(), key, m); err != nil {
			t.Fatalf("read the MissionControlCluster: %v", err)
		}
		return m
	}
	// eventually waits until the stored cluster satisfies ok: the UI's change is the API's.
	eventually := func(what string, ok func(*v1beta1.MissionControlCluster) bool) {
		t.Helper()
		err := wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
			return ok(mcc()), nil
		})
		if err != nil {
			webtest.Screenshot(t, ctx, "failed")
			t.Fatalf("%s: the stored cluster is %+v", what, mcc().Spec.K8ssandra.Cassandra)
		}
	}

	webtest.Do(t, ctx, "open the UI unauthenticated", chromedp.Navigate(e.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#token")))
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); !strings.HasSuffix(loc, "/login") {
		t.Fatalf("the UI without a session is at %s, want /login", loc)
	}
	webtest.Do(t, ctx, "a refused token", chromedp.SendKeys(chromedp.CSS("#token"), "not-a-token"), chromedp.Click(chromedp.CSS("button[type=submit]")),
		webtest.WaitText("#error", "Kubernetes refused this token"))
	webtest.Screenshot(t, ctx, "01-sign-in-refused")

	webtest.SignIn(t, ctx, e.URL, e.Tokens["admin"])
	webtest.Do(t, ctx, "the empty overview", webtest.WaitText("#clusters", "No clusters yet"),
		webtest.WaitText("#user", "mission-control-admin"))
	webtest.Screenshot(t, ctx, "02-overview-empty")

	// Create through the form, first in a namespace the data plane does not cover: the API's
	// error shows in the form, which keeps what was typed.
	webtest.Do(t, ctx, "fill the create form",
		chromedp.Click(chromedp.CSS(`nav a[data-page="new"]`)),
		chromedp.WaitVisible(chromedp.CSS("#cluster-form")),
		webtest.WaitText(`fieldset.datacenter select[name=dataPlaneContext]`, "DP_WEST"),
		chromedp.SetValue(chromedp.CSS("#namespace"), "elsewhere"),
		chromedp.SendKeys(chromedp.CSS("#name"), "web-demo"),
		chromedp.SetValue(chromedp.CSS(`fieldset.datacenter select[name=dataPlaneContext]`), "DP_WEST"),
		chromedp.SetValue(chromedp.CSS(`fieldset.datacenter input[name=size]`), "2"),
		chromedp.Click(chromedp.CSS(`#cluster-form button[type=submit]`)),
		webtest.WaitText("#form-error", "data plane DP_WEST is registered for namespaces demo, not elsewhere"))
	webtest.Screenshot(t, ctx, "03-create-error-in-place")
	webtest.Do(t, ctx, "create in a covered namespace",
		chromedp.SetValue(chromedp.CSS("#namespace"), "demo"),
		chromedp.Click(chromedp.CSS(`#cluster-form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-cluster="demo/web-demo"]`)))
	if dcs := mcc().Spec.K8ssandra.Cassandra.Datacenters; len(dcs) != 1 || dcs[0].K8sContext != "DP_WEST" || dcs[0].Size != 2 || dcs[0].Meta.Name != "dc1" {
		t.Fatalf("the form created %+v", dcs)
	}

	// The operator's status reaches the overview without a reload.
	m := mcc()
	m.Status = v1beta1.MissionControlClusterStatus{ObservedGeneration: m.Generation,
		Conditions:  []metav1.Condition{{Type: "Ready", Status: "True", Reason: "DatacentersReady", Message: "every datacenter is ready", LastTransitionTime: metav1.Now()}},
		Datacenters: []v1beta1.DatacenterStatus{{Name: "dc1", Context: "DP_WEST", Size: 2, ReadyReplicas: 2, Progress: "Ready"}}}
	if err := e.CP.Status().Update(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	card := `[data-cluster="demo/web-demo"]`
	webtest.Do(t, ctx, "the overview refreshes to Ready",
		webtest.WaitText(card+` [data-region="DP_WEST"] [data-datacenter="dc1"]`, "2/2"),
		webtest.WaitText(card+` [data-region="DP_WEST"] [data-datacenter="dc1"]`, "Ready"),
		webtest.WaitText(card+" header", "2/2 nodes ready"))
	webtest.Screenshot(t, ctx, "04-overview-ready")

	// Modify: the size, through the form the overview links to.
	webtest.Do(t, ctx, "modify the size",
		chromedp.Click(chromedp.CSS(card+` a.button`)),
		chromedp.WaitVisible(chromedp.CSS(`#cluster-form fieldset.datacenter input[name=size]`)),
		chromedp.SetValue(chromedp.CSS(`#cluster-form fieldset.datacenter input[name=size]`), "3"))
	webtest.Screenshot(t, ctx, "05-modify")
	webtest.Do(t, ctx, "save", chromedp.Click(chromedp.CSS(`#cluster-form button[type=submit]`)), chromedp.WaitVisible(chromedp.CSS(card)))
	eventually("modify to 3 nodes", func(m *v1beta1.MissionControlCluster) bool {
		return m.Spec.K8ssandra.Cassandra.Datacenters[0].Size == 3
	})

	webtest.Do(t, ctx, "stop", chromedp.Click(chromedp.Search(card+` button:nth-of-type(1)`)))
	eventually("stop", func(m *v1beta1.MissionControlCluster) bool { return m.Spec.K8ssandra.Cassandra.Datacenters[0].Stopped })
	webtest.Do(t, ctx, "the overview shows it stopped", webtest.WaitText(card+" header", "Stopped"), webtest.WaitText(card+" .actions", "Start"))
	webtest.Screenshot(t, ctx, "06-overview-stopped")

	webtest.Do(t, ctx, "the data planes page",
		chromedp.Click(chromedp.CSS(`nav a[data-page="dataplanes"]`)),
		webtest.WaitText(`[data-dataplane="DP_WEST"]`, "Yes, as "),
		webtest.WaitText(`[data-dataplane="DP_GONE"]`, "No: "))
	webtest.Screenshot(t, ctx, "07-data-planes")

	// A phone's screen: nothing wider than the screen.
	webtest.Do(t, ctx, "a phone's screen", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile), chromedp.Navigate(e.URL+"/#/clusters"), chromedp.WaitVisible(chromedp.CSS(card)))
	for page, shown := range map[string]string{"#/clusters": card, "#/clusters/new": "#cluster-form", "#/dataplanes": `[data-dataplane="DP_WEST"]`} {
		webtest.Do(t, ctx, "open "+page, chromedp.Navigate(e.URL+"/"+page), chromedp.WaitVisible(chromedp.CSS(shown)))
		wide, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`))
		if err != nil || wide {
			webtest.Screenshot(t, ctx, "failed-phone")
			t.Errorf("%s on a 390 px screen is wider than the screen (err %v)", page, err)
		}
		webtest.Screenshot(t, ctx, "08-phone-"+strings.NewReplacer("#/", "", "/", "-").Replace(page))
	}
	webtest.Do(t, ctx, "back to 1280x800", chromedp.EmulateViewport(1280, 800), chromedp.Navigate(e.URL+"/#/clusters"), chromedp.WaitVisible(chromedp.CSS(card)))

	webtest.Do(t, ctx, "delete", chromedp.Click(chromedp.CSS(card+` button.danger`)), webtest.WaitGone(card), webtest.WaitText("#clusters", "No clusters yet"))
	if err := e.CP.Get(context.Background(), key, &v1beta1.MissionControlCluster{}); err == nil {
		t.Fatal("the cluster is still stored after the UI deleted it")
	}

	// A viewer may look but not create: Kubernetes' refusal shows in the form.
	webtest.Do(t, ctx, "sign out", chromedp.Click(chromedp.CSS("#signout")), chromedp.WaitVisible(chromedp.CSS("#token")))
	webtest.SignIn(t, ctx, e.URL, e.Tokens["viewer"])
	webtest.Do(t, ctx, "create as a viewer",
		chromedp.Navigate(e.URL+"/#/clusters/new"),
		chromedp.WaitVisible(chromedp.CSS("#cluster-form")),
		chromedp.SendKeys(chromedp.CSS("#name"), "not-allowed"),
		chromedp.Click(chromedp.CSS(`#cluster-form button[type=submit]`)),
		webtest.WaitText("#form-error", "forbidden"))
	webtest.Screenshot(t, ctx, "09-viewer-refused")
}
