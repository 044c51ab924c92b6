package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/datastax/mission-control/api"
	"github.com/datastax/mission-control/api/apitest"
	"github.com/datastax/mission-control/operators/missioncontrol/api/v1beta1"
)

// env adds the requests of these tests to the started API.
type env struct{ *apitest.Env }

// call sends one request as the bearer of token and decodes the answer into out (unless nil).
func (e env) call(t *testing.T, token, method, path string, body any, out any) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		must(t, err)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, e.URL+path, rd)
	must(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	must(t, err)
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	must(t, err)
	if res.StatusCode >= 400 {
		var apiErr api.Error
		if err := json.Unmarshal(data, &apiErr); err != nil || apiErr.Status != res.StatusCode || apiErr.Error == "" {
			t.Fatalf("%s %s: %d with a body that is not an Error: %s", method, path, res.StatusCode, data)
		}
		return res.StatusCode, apiErr.Error
	}
	if out != nil {
		must(t, json.Unmarshal(data, out))
	}
	return res.StatusCode, ""
}

// expect fails t unless the call answers want, and an error message containing msg.
func (e env) expect(t *testing.T, want int, msg string, token, method, path string, body any) {
	t.Helper()
	got, errMsg := e.call(t, token, method, path, body, nil)
	if got != want || !strings.Contains(errMsg, msg) {
		t.Fatalf("%s %s: %d %q, want %d with %q", method, path, got, errMsg, want, msg)
	}
}

func demoSpec() json.RawMessage {
	return json.RawMessage(`{"k8ssandra":{"cassandra":{"serverVersion":"4.1.5","storageConfig":{"cassandraDataVolumeClaimSpec":{"storageClassName":"standard","resources":{"requests":{"storage":"5Gi"}}}},
		"datacenters":[{"metadata":{"name":"dc1"},"size":3,"racks":[{"name":"r1"}]},{"metadata":{"name":"dc2"},"k8sContext":"DP_WEST","size":2}]}}}`)
}

func TestAPI(t *testing.T) {
	started := apitest.Start(t)
	if started == nil {
		return
	}
	e := env{started}
	admin, viewer, nobody := e.Tokens["admin"], e.Tokens["viewer"], e.Tokens["nobody"]
	const demo = "/api/v1/namespaces/demo/clusters/demo"

	t.Run("nothing is served unauthenticated but health and the sign-in page", func(t *testing.T) {
		for _, path := range []string{"/api/v1/clusters", "/api/v1/dataplanes", "/api/v1/operations", "/api/v1/session", "/api/v1/openapi.json", demo} {
			e.expect(t, 401, "not signed in", "", "GET", path, nil)
		}
		e.expect(t, 401, "not signed in", "", "POST", "/api/v1/clusters", api.NewCluster{})
		e.expect(t, 401, "Kubernetes refused the token (unknown, expired or revoked): sign in again", "not-a-token", "GET", "/api/v1/clusters", nil)
		noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		for path, want := range map[string]int{"/healthz": 200, "/login": 200, "/static/login.js": 200, "/static/style.css": 200,
			"/": 303, "/static/app.js": 303, "/static/index.html": 303} {
			res, err := noRedirect.Get(e.URL + path)
			must(t, err)
			res.Body.Close()
			if res.StatusCode != want {
				t.Errorf("GET %s unauthenticated: %d, want %d", path, res.StatusCode, want)
			}
		}
	})

	t.Run("sign in keeps a token Kubernetes accepts in the session cookie", func(t *testing.T) {
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar}
		post := func(body string) *http.Response {
			res, err := c.Post(e.URL+"/api/v1/session", "application/json", strings.NewReader(body))
			must(t, err)
			return res
		}
		for body, want := range map[string]int{`{"token":"forged"}`: 401, `{"token":" "}`: 400, `{"tok":"x"}`: 400, `not json`: 400} {
			if res := post(body); res.StatusCode != want || len(res.Cookies()) != 0 {
				t.Errorf("sign in with %s: %d with cookies %v, want %d and none", body, res.StatusCode, res.Cookies(), want)
			}
		}
		res := post(fmt.Sprintf(`{"token":%q}`, admin))
		var s api.Session
		must(t, json.NewDecoder(res.Body).Decode(&s))
		if res.StatusCode != 200 || s.User != "system:serviceaccount:mission-control:mission-control-admin" {
			t.Fatalf("sign in: %d %+v", res.StatusCode, s)
		}
		for _, ck := range res.Cookies() {
			if ck.Name == api.SessionCookie && (!ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode) {
				t.Errorf("session cookie %+v: want HttpOnly and SameSite=Strict", ck)
			}
		}
		for _, path := range []string{"/", "/static/app.js", "/api/v1/session"} {
			res, err := c.Get(e.URL + path)
			must(t, err)
			res.Body.Close()
			if res.StatusCode != 200 || res.Request.URL.Path != path {
				t.Errorf("GET %s signed in: %d at %s", path, res.StatusCode, res.Request.URL.Path)
			}
		}
		// A change through the cookie without the UI's header is refused (another site's form).
		res, err := c.Post(e.URL+"/api/v1/clusters", "application/json", strings.NewReader(`{}`))
		must(t, err)
		res.Body.Close()
		if res.StatusCode != 403 {
			t.Errorf("cookie POST without %s: %d, want 403", "X-Mission-Control", res.StatusCode)
		}
		req, _ := http.NewRequest("DELETE", e.URL+"/api/v1/session", nil)
		req.Header.Set("X-Mission-Control", "1")
		res, err = c.Do(req)
		must(t, err)
		res.Body.Close()
		if res, _ := c.Get(e.URL + "/api/v1/session"); res.StatusCode != 401 {
			t.Errorf("after sign-out: %d, want 401", res.StatusCode)
		}
	})

	t.Run("bad requests are refused before anything is written, naming the problem", func(t *testing.T) {
		for _, c := range []struct {
			body api.NewCluster
			msg  string
		}{
			{api.NewCluster{Namespace: "demo", Name: "Bad_Name", Spec: demoSpec()}, `name "Bad_Name"`},
			{api.NewCluster{Namespace: "", Name: "demo", Spec: demoSpec()}, `namespace ""`},
			{api.NewCluster{Namespace: "demo", Name: "demo"}, "spec: a MissionControlCluster spec object is needed"},
			{api.NewCluster{Namespace: "demo", Name: "demo", Spec: json.RawMessage(`{"k8ssandra":{"cassandra":{"datacenters":[]}}}`)}, "at least one datacenter"},
			{api.NewCluster{Namespace: "demo", Name: "demo", Spec: json.RawMessage(`{"k8ssandra":{"cassandra":{"datacenters":[{"metadata":{"name":"dc1"},"k8sContext":"DP_NORTH","size":1}]}}}`)},
				`data plane context "DP_NORTH" is not registered (registered: DP_GONE, DP_WEST)`},
			{api.NewCluster{Namespace: "elsewhere", Name: "demo", Spec: demoSpec()}, "data plane DP_WEST is registered for namespaces demo, not elsewhere; run mcctl register again with --database-namespaces demo,elsewhere"},
		} {
			e.expect(t, 400, c.msg, admin, "POST", "/api/v1/clusters", c.body)
		}
		e.expect(t, 400, `unknown field "spce"`, admin, "POST", "/api/v1/clusters", map[string]any{"name": "x", "spce": 1})
		// The API server's own validation answers too, with its message.
		e.expect(t, 422, "Kubernetes: ", admin, "POST", "/api/v1/clusters", api.NewCluster{Namespace: "demo", Name: "demo",
			Spec: json.RawMessage(`{"k8ssandra":{"cassandra":{"serverVersion":"four","datacenters":[{"metadata":{"name":"dc1"},"size":1}]}}}`)})
		e.expect(t, 404, "no such API operation", admin, "GET", "/api/v2/clusters", nil)
		var list api.ClusterList
		e.call(t, admin, "GET", "/api/v1/clusters", nil, &list)
		if len(list.Items) != 0 {
			t.Fatalf("refused requests wrote clusters: %+v", list.Items)
		}
	})

	t.Run("create, read, modify and delete a cluster as the admin", func(t *testing.T) {
		var created api.Cluster
		if code, msg := e.call(t, admin, "POST", "/api/v1/clusters", api.NewCluster{Namespace: "demo", Name: "demo", Spec: demoSpec()}, &created); code != 201 {
			t.Fatalf("create: %d %s", code, msg)
		}
		e.expect(t, 409, "Kubernetes: ", admin, "POST", "/api/v1/clusters", api.NewCluster{Namespace: "demo", Name: "demo", Spec: demoSpec()})
		// What the operator reports is what the API shows, grouped by data plane.
		mcc := &v1beta1.MissionControlCluster{}
		must(t, e.CP.Get(context.Background(), client.ObjectKey{Namespace: "demo", Name: "demo"}, mcc))
		mcc.Status = v1beta1.MissionControlClusterStatus{ObservedGeneration: mcc.Generation,
			Conditions: []metav1.Condition{{Type: "Ready", Status: "False", Reason: "DatacentersNotReady", Message: "dc2 has 1 of 2 nodes ready", LastTransitionTime: metav1.Now()},
				{Type: "Progressing", Status: "True", Reason: "Reconciling", Message: "waiting for dc2", LastTransitionTime: metav1.Now()}},
			Datacenters: []v1beta1.DatacenterStatus{{Name: "dc1", Size: 3, ReadyReplicas: 3, Progress: "Ready"}, {Name: "dc2", Context: "DP_WEST", Size: 2, ReadyReplicas: 1, Progress: "Updating"}}}
		must(t, e.CP.Status().Update(context.Background(), mcc))

		var got api.Cluster
		e.call(t, viewer, "GET", demo, nil, &got)
		if got.Ready || got.NodesReady != 4 || got.Nodes != 5 || len(got.Regions) != 2 ||
			got.Regions[0].DataPlaneContext != "" || got.Regions[0].NodesReady != 3 || !got.Regions[0].Datacenters[0].Ready ||
			got.Regions[1].DataPlaneContext != "DP_WEST" || got.Regions[1].Datacenters[0].Progress != "Updating" || got.Regions[1].Datacenters[0].Ready ||
			len(got.Conditions) != 2 || got.ServerVersion != "4.1.5" {
			t.Fatalf("get: %+v", got)
		}
		var ops api.OperationList
		e.call(t, viewer, "GET", "/api/v1/operations", nil, &ops)
		if len(ops.Items) != 1 || ops.Items[0].Datacenter != "dc2" || ops.Items[0].Kind != "scaling" || ops.Items[0].Message != "1 of 2 nodes ready, Updating" {
			t.Fatalf("operations: %+v", ops.Items)
		}

		// Stop: every datacenter, and nothing else of the spec changes.
		var stopped api.Cluster
		e.call(t, admin, "PATCH", demo, api.ClusterChange{Stopped: ptr.To(true), ResourceVersion: got.ResourceVersion}, &stopped)
		if !stopped.Stopped {
			t.Fatalf("stop: %+v", stopped)
		}
		e.expect(t, 409, "changed since you read it", admin, "PATCH", demo, api.ClusterChange{Stopped: ptr.To(false), ResourceVersion: got.ResourceVersion})
		e.call(t, viewer, "GET", "/api/v1/operations", nil, &ops)
		if len(ops.Items) != 3 || ops.Items[0].Kind != "reconciling" || ops.Items[1].Kind != "stopping" || ops.Items[2].Kind != "stopping" {
			t.Fatalf("operations after stop: %+v", ops.Items)
		}

		// Resize dc1, remove dc2, add dc3 in DP_WEST; dc1 keeps its racks, the cluster its storage.
		var changed api.Cluster
		e.call(t, admin, "PATCH", demo, api.ClusterChange{Stopped: ptr.To(false), Datacenters: []api.DatacenterChange{
			{Name: "dc1", Size: 5}, {Name: "dc3", DataPlaneContext: "DP_WEST", Size: 1}}}, &changed)
		must(t, e.CP.Get(context.Background(), client.ObjectKey{Namespace: "demo", Name: "demo"}, mcc))
		dcs := mcc.Spec.K8ssandra.Cassandra.Datacenters
		if len(dcs) != 2 || dcs[0].Size != 5 || dcs[0].Stopped || dcs[1].Meta.Name != "dc3" || dcs[1].K8sContext != "DP_WEST" || dcs[1].Size != 1 {
			t.Fatalf("datacenters after the change: %+v", dcs)
		}
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(v1beta1.GroupVersion.WithKind("MissionControlCluster"))
		must(t, e.CP.Get(context.Background(), client.ObjectKey{Namespace: "demo", Name: "demo"}, u))
		racks, _, _ := unstructured.NestedSlice(u.Object, "spec", "k8ssandra", "cassandra", "datacenters")
		if r, _, _ := unstructured.NestedSlice(racks[0].(map[string]any), "racks"); len(r) != 1 {
			t.Errorf("dc1 lost its racks: %v", racks[0])
		}
		if s, _, _ := unstructured.NestedString(u.Object, "spec", "k8ssandra", "cassandra", "storageConfig", "cassandraDataVolumeClaimSpec", "storageClassName"); s != "standard" {
			t.Errorf("the cluster lost its storageConfig: %v", u.Object["spec"])
		}
		for _, c := range []struct {
			change api.ClusterChange
			msg    string
		}{
			{api.ClusterChange{Datacenters: []api.DatacenterChange{{Name: "dc1", DataPlaneContext: "DP_WEST", Size: 5}}}, "datacenter dc1 runs in the control plane: a datacenter cannot move to data plane DP_WEST"},
			{api.ClusterChange{Datacenters: []api.DatacenterChange{{Name: "dc1", Size: 0}}}, "size 0"},
			{api.ClusterChange{Datacenters: []api.DatacenterChange{{Name: "dc1", Size: 1}, {Name: "dc1", Size: 1}}}, "listed twice"},
			{api.ClusterChange{Datacenters: []api.DatacenterChange{}}, "nothing to change"},
			{api.ClusterChange{}, "nothing to change"},
			{api.ClusterChange{Datacenters: []api.DatacenterChange{{Name: "dc9", DataPlaneContext: "DP_NORTH", Size: 1}}}, `"DP_NORTH" is not registered`},
		} {
			e.expect(t, 400, c.msg, admin, "PATCH", demo, c.change)
		}
		e.expect(t, 404, "Kubernetes: ", admin, "PATCH", "/api/v1/namespaces/demo/clusters/nope", api.ClusterChange{Stopped: ptr.To(true)})

		if code, _ := e.call(t, admin, "DELETE", demo, nil, nil); code != 204 {
			t.Fatalf("delete: %d", code)
		}
		e.expect(t, 404, "Kubernetes: ", admin, "GET", demo, nil)
	})

	t.Run("Kubernetes RBAC decides: a viewer reads but changes nothing, a stranger sees nothing", func(t *testing.T) {
		must(t, e.CP.Create(context.Background(), &v1beta1.MissionControlCluster{ObjectMeta: metav1.ObjectMeta{Namespace: "demo", Name: "kept"},
			Spec: v1beta1.MissionControlClusterSpec{K8ssandra: v1beta1.K8ssandraClusterTemplate{Cassandra: &v1beta1.CassandraClusterTemplate{
				Datacenters: []v1beta1.DatacenterTemplate{{Meta: v1beta1.DatacenterMeta{Name: "dc1"}, Size: 1}}}}}}))
		var list api.ClusterList
		if code, _ := e.call(t, viewer, "GET", "/api/v1/clusters", nil, &list); code != 200 || len(list.Items) != 1 {
			t.Fatalf("viewer list: %d %+v", code, list)
		}
		forbidden := `Kubernetes: missioncontrolclusters.missioncontrol.datastax.com`
		e.expect(t, 403, forbidden, viewer, "POST", "/api/v1/clusters", api.NewCluster{Namespace: "demo", Name: "other", Spec: json.RawMessage(`{"k8ssandra":{"cassandra":{"datacenters":[{"metadata":{"name":"dc1"},"size":1}]}}}`)})
		e.expect(t, 403, forbidden, viewer, "PATCH", "/api/v1/namespaces/demo/clusters/kept", api.ClusterChange{Stopped: ptr.To(true)})
		e.expect(t, 403, forbidden, viewer, "DELETE", "/api/v1/namespaces/demo/clusters/kept", nil)
		e.expect(t, 403, forbidden, nobody, "GET", "/api/v1/clusters", nil)
		e.expect(t, 403, forbidden, nobody, "GET", "/api/v1/namespaces/demo/clusters/kept", nil)
		e.expect(t, 403, "Kubernetes: clientconfigs.config.k8ssandra.io", nobody, "GET", "/api/v1/dataplanes", nil)
		e.expect(t, 403, forbidden, nobody, "GET", "/api/v1/operations", nil)
		var s api.Session
		e.call(t, nobody, "GET", "/api/v1/session", nil, &s)
		if s.User != "system:serviceaccount:mission-control:mallory" {
			t.Errorf("session of the stranger: %+v", s)
		}
		mcc := &v1beta1.MissionControlCluster{}
		must(t, e.CP.Get(context.Background(), client.ObjectKey{Namespace: "demo", Name: "kept"}, mcc))
		if mcc.Spec.K8ssandra.Cassandra.Datacenters[0].Stopped {
			t.Fatal("a refused stop stopped the cluster")
		}
	})

	t.Run("data planes say whether each answers, asked with its registration's credential", func(t *testing.T) {
		var planes api.DataPlaneList
		e.call(t, viewer, "GET", "/api/v1/dataplanes", nil, &planes)
		if len(planes.Items) != 2 {
			t.Fatalf("data planes: %+v", planes)
		}
		gone, west := planes.Items[0], planes.Items[1]
		if west.DataPlaneContext != "DP_WEST" || !west.Answers || west.User == "" || west.Error != "" || west.Namespaces[0] != "demo" {
			t.Errorf("DP_WEST: %+v", west)
		}
		if gone.DataPlaneContext != "DP_GONE" || gone.Answers || !strings.Contains(gone.Error, "127.0.0.1:1") {
			t.Errorf("DP_GONE: %+v", gone)
		}
	})

	t.Run("the OpenAPI document is served", func(t *testing.T) {
		var doc map[string]any
		e.call(t, viewer, "GET", "/api/v1/openapi.json", nil, &doc)
		if doc["openapi"] == nil {
			t.Fatalf("openapi.json: %v", doc)
		}
	})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
