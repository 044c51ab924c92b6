package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/datastax/mission-control/internal/host"
)

// The provisioner's arguments, as local-path-provisioner v0.0.30 passes them to its helper.
func TestRun(t *testing.T) {
	path := t.TempDir() + "/demo_data_pvc-1"
	for _, tc := range []struct {
		args []string
		ops  []string
		want string
	}{
		{[]string{"-p", path, "-s", "2147483648", "-m", "Filesystem", "-a", "create"},
			[]string{"mkdir " + path + " (0777)", "write " + path + ".volume.json"}, "made " + path + " (2147483648 bytes requested) on node-1"},
		{[]string{"-p", path, "-s", "0", "-m", "Filesystem", "-a", "delete"}, nil, "removed " + path},
		{[]string{"-p", path, "-a", "resize"}, nil, `-a "resize": want create or delete`},
		{[]string{"-a", "create"}, nil, "-p (the volume's directory) is required"},
		{[]string{"-p", path, "-m", "Block", "-a", "create"}, nil, "volumeMode Block is not supported"},
	} {
		rec := host.NewRecorder(host.System{})
		var errOut bytes.Buffer
		err := run(context.Background(), rec, tc.args, "node-1", &errOut, time.Now())
		if got := errOut.String() + errString(err); !strings.Contains(got, tc.want) {
			t.Errorf("%v: %q, want %q", tc.args, got, tc.want)
		}
		var ops []string
		for _, op := range rec.Ops() {
			ops = append(ops, op.String())
		}
		if len(ops) != len(tc.ops) {
			t.Errorf("%v: ops %v, want %v", tc.args, ops, tc.ops)
			continue
		}
		for i := range ops {
			if !strings.HasPrefix(ops[i], tc.ops[i]) {
				t.Errorf("%v: op %q, want %q...", tc.args, ops[i], tc.ops[i])
			}
		}
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
