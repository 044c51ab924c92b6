package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/datastax/mission-control/internal/host"
)

// TestRunRefusesBadFlags: a bad range or interval stops the agent before it touches the node.
func TestRunRefusesBadFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, `--pod-cidr "" is not a range`},
		{[]string{"--pod-cidr", "10.0.0.0"}, `--pod-cidr "10.0.0.0" is not a range`},
		{[]string{"--pod-cidr", "10.0.0.0/17", "--interval", "0s"}, "--interval 0s must be positive"},
	} {
		rec := host.NewRecorder(nil)
		var out bytes.Buffer
		err := run(context.Background(), rec, tc.args, &out)
		if err == nil || !strings.Contains(err.Error(), tc.want) || len(rec.Ops()) != 0 {
			t.Errorf("run %v: %v (ops %v), want %q", tc.args, err, rec.Ops(), tc.want)
		}
	}
}
