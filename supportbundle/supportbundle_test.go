package supportbundle

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/datastax/mission-control/internal/contract"
	"github.com/datastax/mission-control/internal/host"
	"github.com/datastax/mission-control/internal/pemtest"
)

func TestSpecLoads(t *testing.T) {
	for _, systemd := range []bool{false, true} {
		spec, redactor, err := Spec(context.Background(), "/var/lib/mission-control", systemd)
		if err != nil {
			t.Fatal(err)
		}
		want := 20 // and the runtime's journal where systemd runs
		if systemd {
			want++
		}
		if len(spec.Spec.HostCollectors) != want {
			t.Errorf("systemd %v: %d host collectors, want %d", systemd, len(spec.Spec.HostCollectors), want)
		}
		if len(spec.Spec.Collectors) != 5 || len(spec.Spec.Analyzers) != len(contract.Deployments(true))+1 || len(redactor.Spec.Redactors) != 3 {
			t.Errorf("%d collectors, %d analyzers, %d redactors", len(spec.Spec.Collectors), len(spec.Spec.Analyzers), len(redactor.Spec.Redactors))
		}
	}
}

// Secrets planted in the data dir's files; none may reach the bundle.
const (
	plantedKey      = "UExBTlRFRC1DTElFTlQtS0VZLWRhdGEtNDI="
	plantedToken    = "planted-token-8f3a9c"
	plantedPassword = "planted-password-77aa"
	plantedSig      = "UExBTlRFRC1TSUdOQVRVUkU="
	plantedEnv      = "postgres://app:planted-env-3c1d@db,replica"
	plantedBearer   = "eyJhbGciOiJSUzI1NiJ9.cGxhbnRlZC1iZWFyZXI.c2ln"
)

// TestCollectWithoutCluster collects a data dir whose API never answers: the host part and the
// reason are in the bundle, and the planted credentials are not.
func TestCollectWithoutCluster(t *testing.T) {
	dir := t.TempDir()
	key := pemtest.RSAKey(t) // a real private key: many body lines after its BEGIN line
	planted := append(pemtest.BodyLines(key), plantedKey, plantedToken, plantedPassword, plantedSig, plantedEnv, "planted-env-3c1d", plantedBearer, "planted-aws-5e2f",
		"planted-api-1a2b", "planted-sess-3c4d", "planted-sign-5e6f", "planted-admin-7a8b", "cGxhbnRlZC1iYXNpYw==")
	for name, content := range map[string]string{
		"kubeconfig": "apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    server: https://127.0.0.1:1\n  name: mc\ncontexts:\n- context:\n    cluster: mc\n    user: admin\n  name: mc\ncurrent-context: mc\n" +
			"users:\n- name: admin\n  user:\n    client-key-data: " + plantedKey + "\n    token: " + plantedToken + "\n",
		"log/k0s.log": "time=\"2026-11-22\" level=info msg=\"connecting\" password=" + plantedPassword + "\nplain line\n" +
			// the kubelet prints the spec of a container it cannot start, environment values and all
			`time="2026-11-22" level=info msg="E1122 kuberuntime_manager.go:1358] \"Unhandled Error\" err=\"container &Container{Name:app,Env:[]EnvVar{EnvVar{Name:DB_URL,Value:` + plantedEnv + `,ValueFrom:nil,},},}\""` + "\n" +
			"level=debug msg=\"GET /apis Authorization: Bearer " + plantedBearer + "\"\nlevel=info msg=\"env AWS_CREDENTIALS=planted-aws-5e2f\"\n" +
			"env API_TOKEN=planted-api-1a2b SESSION_SECRET=planted-sess-3c4d SIGNING_KEY=planted-sign-5e6f ADMIN_PASSWORD=planted-admin-7a8b\n" +
			"GET /healthz Authorization: Basic cGxhbnRlZC1iYXNpYw==\n" +
			"level=error msg=\"bad key\" key=\"\n" + key + "\"\n",
		"license.yaml":   "apiVersion: missioncontrol.datastax.com/v1\nkind: License\nspec:\n  licenseID: L-1\n",
		"install.yaml":   "mode: control-plane\n",
		"journal.json":   "{}\n",
		"etc/k0s.yaml":   "apiVersion: k0s.k0sproject.io/v1beta1\n",
		"etc/secret.pem": "-----BEGIN PRIVATE KEY-----" + plantedSig + "\n" + key,
	} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// The archive in the temp dir troubleshoot writes its own into: the two must not collide.
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	out := filepath.Join(tmp, "bundle.tar.gz")
	var progress []string
	res, err := Collect(context.Background(), Options{DataDir: dir, Out: out, Host: host.System{}, APITimeout: 2 * time.Second,
		Progress: func(m string) { progress = append(progress, m) }})
	if err != nil {
		t.Fatal(err)
	}
	if res.ClusterError == nil {
		t.Error("no cluster error, though the API at 127.0.0.1:1 cannot answer")
	}
	if !strings.Contains(strings.Join(progress, "\n"), "[kubeconfig] Running host collector") {
		t.Errorf("progress did not name the collectors:\n%s", strings.Join(progress, "\n"))
	}
	if left, _ := filepath.Glob(filepath.Join(tmp, "*")); len(left) != 1 || left[0] != out {
		t.Errorf("the temp dir holds %v, want only the bundle", left)
	}
	files := extract(t, out)
	for _, want := range []string{"cluster-collection-error.txt", "host-collectors/run-host/routes.txt", "host-collectors/run-host/mounts.txt",
		"host-collectors/system/hostos_info.json", "host-collectors/kubeconfig/kubeconfig", "host-collectors/runtime-logs/k0s.log",
		"host-collectors/license/license.yaml", "host-collectors/install-records/journal.json", "host-collectors/runtime-config/k0s.yaml"} {
		if _, ok := files[want]; !ok {
			t.Errorf("bundle lacks %s", want)
		}
	}
	if !strings.Contains(files["host-collectors/runtime-logs/k0s.log"], "plain line") {
		t.Errorf("the log lost its other lines:\n%s", files["host-collectors/runtime-logs/k0s.log"])
	}
	for name, content := range files {
		for _, secret := range planted {
			if strings.Contains(content, secret) {
				t.Errorf("%s holds the planted secret %s", name, secret)
			}
		}
	}
}

func TestArchiveTop(t *testing.T) {
	for output, want := range map[string]string{"/tmp/case-1234.tar.gz": "case-1234", "b.tgz": "b", "bundle": "bundle", "x.tar": "x", ".tar.gz": ".tar.gz"} {
		if got := archiveTop(output); got != want {
			t.Errorf("archiveTop(%q) = %q, want %q", output, got, want)
		}
	}
}

// extract returns the bundle's files by path below its top directory, which must be named after
// the archive.
func extract(t *testing.T, archive string) map[string]string {
	t.Helper()
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	tr := tar.NewReader(zr)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return files
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		top, rel, _ := strings.Cut(hdr.Name, "/")
		if want := strings.TrimSuffix(filepath.Base(archive), ".tar.gz"); top != want {
			t.Fatalf("%s is under %s/, want the archive's name %s/", hdr.Name, top, want)
		}
		files[rel] = string(b)
	}
}
