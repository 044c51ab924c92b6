package missioncontrol

import (
	"errors"
	"flag"
	"io"
	"strings"
	"testing"
	"time"
)

func TestParseFlags(t *testing.T) {
	o, _, err := parseFlags([]string{"--local-context", "CP_EAST", "--workers", "3", "--data-plane-timeout", "4s", "--leader-elect", "--zap-log-level", "debug"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.LocalContext != "CP_EAST" || o.Workers != 3 || o.DataPlaneTimeout != 4*time.Second || !o.LeaderElect || o.ReadyResync != DefaultOptions().ReadyResync {
		t.Errorf("options %+v", o)
	}
	var help strings.Builder
	if _, _, err := parseFlags([]string{"-h"}, &help); !errors.Is(err, flag.ErrHelp) || !strings.Contains(help.String(), "-local-context") {
		t.Errorf("-h: %v\n%s", err, help.String())
	}
	for args, want := range map[string]string{
		"--no-such-flag": "flag provided but not defined",
		"--workers 0":    "--workers 0: at least one worker",
		"extra":          `unexpected argument "extra"`,
		"--workers x":    "invalid value",
	} {
		if _, _, err := parseFlags(strings.Fields(args), io.Discard); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error with %q", args, err, want)
		}
	}
}
