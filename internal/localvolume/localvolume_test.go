package localvolume

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/datastax/mission-control/internal/host"
)

var now = time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)

func TestSetupMakesTheDirectoryAndItsRecord(t *testing.T) {
	storage := t.TempDir()
	rec := host.NewRecorder(host.System{})
	path := filepath.Join(storage, "demo_server-data-demo-dc1-default-sts-0_pvc-1234")
	if err := Setup(context.Background(), rec, Request{Path: path, Mode: "Filesystem", SizeBytes: 2 << 30, Node: "node-1"}, now); err != nil {
		t.Fatal(err)
	}
	var ops []string
	for _, op := range rec.Ops() {
		ops = append(ops, op.String())
	}
	if len(ops) != 2 || ops[0] != "mkdir "+path+" (0777)" || !strings.HasPrefix(ops[1], "write "+path+RecordSuffix+" (0644,") {
		t.Fatalf("ops:\n%s", strings.Join(ops, "\n"))
	}
	data, err := rec.ReadFile(path + RecordSuffix)
	if err != nil {
		t.Fatal(err)
	}
	var got Record
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	want := Record{PV: "pvc-1234", Namespace: "demo", Claim: "server-data-demo-dc1-default-sts-0", Node: "node-1", Path: path, SizeBytes: 2 << 30, Created: now}
	if got != want {
		t.Errorf("record %+v, want %+v", got, want)
	}
}

func TestSetupRefuses(t *testing.T) {
	for _, tc := range []struct{ name, path, mode, want string }{
		{"a relative path", "storage/a_b_c", "Filesystem", "not an absolute path"},
		{"a path with ..", "/storage/../a_b_c", "Filesystem", "not an absolute path"},
		{"the root's child", "/a_b_c", "Filesystem", "not an absolute path"},
		{"a block volume", "/storage/a_b_c", "Block", "volumeMode Block is not supported"},
		{"a name off the pattern", "/storage/pvc-1234", "Filesystem", "is not NAMESPACE_CLAIM_PV"},
	} {
		rec := host.NewRecorder(host.System{})
		err := Setup(context.Background(), rec, Request{Path: tc.path, Mode: tc.mode}, now)
		if err == nil || !strings.Contains(err.Error(), tc.want) || len(rec.Ops()) != 0 {
			t.Errorf("%s: err %v (want %q), ops %v", tc.name, err, tc.want, rec.Ops())
		}
	}
}

func TestTeardownRemovesTheDirectoryAndRecordOnly(t *testing.T) {
	storage := t.TempDir()
	vol := filepath.Join(storage, "demo_data_pvc-1")
	mustWrite(t, filepath.Join(vol, "data"), 10)
	mustWrite(t, vol+RecordSuffix, 10)
	mustWrite(t, filepath.Join(storage, "demo_data_pvc-2", "data"), 10)
	rec := host.NewRecorder(host.System{})
	if err := Teardown(context.Background(), rec, vol); err != nil {
		t.Fatal(err)
	}
	var ops []string
	for _, op := range rec.Ops() {
		ops = append(ops, op.String())
	}
	want := []string{"remove " + vol, "remove " + vol + RecordSuffix}
	if strings.Join(ops, "\n") != strings.Join(want, "\n") {
		t.Errorf("ops:\n%s\nwant:\n%s", strings.Join(ops, "\n"), strings.Join(want, "\n"))
	}
	if err := Teardown(context.Background(), rec, "/"); err == nil {
		t.Error("teardown of / was not refused")
	}
}

func TestListAndUsage(t *testing.T) {
	storage := t.TempDir()
	if vs, err := List(host.System{}, filepath.Join(storage, "none")); err != nil || vs != nil {
		t.Fatalf("a missing storage dir: %v %v", vs, err)
	}
	vol := filepath.Join(storage, "demo_data_pvc-1")
	if err := Setup(context.Background(), host.System{}, Request{Path: vol, SizeBytes: 100, Node: "n"}, now); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, filepath.Join(vol, "a"), 1000)
	mustWrite(t, filepath.Join(vol, "sub", "b"), 24)
	if err := os.Symlink("/", filepath.Join(vol, "root")); err != nil {
		t.Fatal(err)
	}
	unrecorded := filepath.Join(storage, "other_claim_pvc-2")
	mustWrite(t, filepath.Join(unrecorded, "c"), 5)
	mustWrite(t, filepath.Join(storage, "not-a-volume", "d"), 7)

	vs, err := List(host.System{}, storage)
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 2 {
		t.Fatalf("volumes: %+v", vs)
	}
	if v := vs[0]; v.PV != "pvc-1" || v.Namespace != "demo" || v.Claim != "data" || v.Node != "n" || v.UsedBytes != 1024 {
		t.Errorf("first volume: %+v", v)
	}
	if v := vs[1]; v.PV != "pvc-2" || v.Namespace != "other" || v.Claim != "claim" || v.Path != unrecorded || v.UsedBytes != 5 {
		t.Errorf("unrecorded volume: %+v", v)
	}
	if n, err := Usage(host.System{}, storage); err != nil || n < 1036 {
		t.Errorf("usage of the storage dir: %d %v", n, err)
	}
}

func mustWrite(t *testing.T, path string, size int) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, make([]byte, size), 0o644); err != nil {
		t.Fatal(err)
	}
}
