// Package payloadtest makes small, real runtime payloads for tests: the file layout of the real
// one with a few bytes in each file, so that staging can be planned and checked without the
// 600 MB build.
package payloadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/datastax/mission-control/internal/host"
	"github.com/datastax/mission-control/runtime/payload"
)

// Files are the fake payload's files and contents.
var Files = map[string]string{
	"bin/k0s":            "#!/bin/sh\necho fake k0s\n",
	"bin/kubelet":        "#!/bin/sh\necho fake kubelet\n",
	"cni/bridge":         "#!/bin/sh\necho fake bridge\n",
	"images/pause.tar":   "fake pause image\n",
	"images/coredns.tar": "fake coredns image\n",
}

// Images are the fake payload's component images.
var Images = map[string]string{
	"cass-operator":            "localhost/mission-control/cass-operator:v0-test",
	"k8ssandra-operator":       "localhost/mission-control/k8ssandra-operator:v0-test",
	"mission-control-operator": "localhost/mission-control/mission-control-operator:sha-test",
	"kube-router":              "localhost/mission-control/kube-router:v0-test",
	"pod-network-peering":      "localhost/mission-control/pod-network-peering:sha-test",
}

// New packs Files into a payload.
func New(t testing.TB) *payload.Payload {
	t.Helper()
	p, err := Build()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Build packs Files into a payload, in a temporary directory it removes again.
func Build() (*payload.Payload, error) {
	h := host.System{}
	ctx := context.Background()
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("payloadtest-%d-%d", os.Getpid(), time.Now().UnixNano()))
	defer h.RemoveAll(ctx, dir)
	for name, content := range Files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := h.MkdirAll(ctx, filepath.Dir(p), 0o755); err != nil {
			return nil, err
		}
		mode := os.FileMode(0o644)
		if !strings.HasPrefix(name, "images/") {
			mode = 0o755
		}
		if err := h.WriteFile(ctx, p, []byte(content), mode); err != nil {
			return nil, err
		}
	}
	var packed bytes.Buffer
	m, err := payload.Pack(dir, &packed, "source", map[string]string{"KUBERNETES_VERSION": "v1.33.4"})
	if err != nil {
		return nil, err
	}
	m.Images = Images
	manifest, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	return payload.New(packed.Bytes(), manifest)
}
