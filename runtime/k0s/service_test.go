package k0s

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/datastax/mission-control/internal/datadir"
	"github.com/datastax/mission-control/internal/host"
)

// wantOps fails t unless the recorded ops are want, in order.
func wantOps(t *testing.T, what string, ops []host.Op, want []string) {
	t.Helper()
	if got := opStrings(ops); !slices.Equal(got, want) {
		t.Errorf("%s:\n%s\nwant\n%s", what, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func opStrings(ops []host.Op) []string {
	var out []string
	for _, op := range ops {
		out = append(out, op.String())
	}
	return out
}

func TestServiceWithSystemd(t *testing.T) {
	rec := host.NewRecorder(fakeReader{"/run/systemd/system": "", "/etc/systemd/system": "",
		"link:/proc/self/ns/net": "net:[4026531840]", "link:/proc/1/ns/net": "net:[4026531840]"})
	s := Service{Layout: datadir.Layout{DataDir: "/data"}, Host: rec}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(opStrings(rec.Ops()), "\n")
	want := "write /etc/systemd/system/mission-control-k0s.service (0644, " + strconv.Itoa(len(s.Unit(""))) + " bytes)\n" +
		"run systemctl daemon-reload\nrun systemctl enable --now mission-control-k0s.service"
	if got != want {
		t.Errorf("start:\n%s\nwant\n%s", got, want)
	}
	unit := string(s.Unit(""))
	for _, line := range []string{"ExecStart=" + NodeCommand(s.Layout, RoleController, false).String(), "Restart=always", "KillMode=process", "Delegate=yes"} {
		if !strings.Contains(unit, line+"\n") {
			t.Errorf("unit lacks %q:\n%s", line, unit)
		}
	}
	if strings.Contains(unit, "NetworkNamespacePath") {
		t.Errorf("a unit of init's network namespace joins another:\n%s", unit)
	}
	before := len(rec.Ops())
	if err := s.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	got = strings.Join(opStrings(rec.Ops()[before:]), "\n")
	want = "run systemctl disable --now mission-control-k0s.service\nremove /etc/systemd/system/mission-control-k0s.service\nrun systemctl daemon-reload"
	if got != want {
		t.Errorf("stop:\n%s\nwant\n%s", got, want)
	}
}

// TestServiceInNamedNetns: run in a named network namespace (ip netns attach), the unit joins it;
// in one without a name, start refuses before writing anything.
func TestServiceInNamedNetns(t *testing.T) {
	files := fakeReader{"/run/systemd/system": "", "/etc/systemd/system": "",
		"link:/proc/self/ns/net": "net:[4026532283]", "link:/proc/1/ns/net": "net:[4026531840]",
		"/proc/self/mountinfo": "1 0 254:0 / / rw - ext4 /dev/vda rw\n40 30 0:4 net:[4026532283] /run/netns/airgap rw - nsfs nsfs rw\n"}
	rec := host.NewRecorder(files)
	s := Service{Layout: datadir.Layout{DataDir: "/data"}, Host: rec}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if unit := rec.Ops()[0].Content; !strings.Contains(unit, "\nNetworkNamespacePath=/run/netns/airgap\n") {
		t.Errorf("unit:\n%s", unit)
	}
	files["/proc/self/mountinfo"] = "1 0 254:0 / / rw - ext4 /dev/vda rw\n"
	rec = host.NewRecorder(files)
	err := Service{Layout: datadir.Layout{DataDir: "/data"}, Host: rec}.Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), "net:[4026532283], which has no name") || !strings.Contains(err.Error(), "nsenter --net=/run/netns/NAME") {
		t.Errorf("start in an unnamed namespace: %v", err)
	}
	if len(rec.Ops()) != 0 {
		t.Errorf("changed the host: %v", opStrings(rec.Ops()))
	}
}

// TestSupervisedService runs the service for real with a stand-in for mission-control: a script
// at the data dir's binary path that, like the supervisor, runs until SIGTERM.
func TestSupervisedService(t *testing.T) {
	l := datadir.Layout{DataDir: t.TempDir()}
	h := host.System{}
	for _, d := range []string{l.BinDir(), l.LogDir(), l.RunDir()} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	script := "#!/bin/sh\ntrap 'echo stopping; exit 0' TERM\necho supervising \"$@\"\nwhile :; do sleep 0.05; done\n"
	if err := os.WriteFile(l.Self(), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	s := Service{Layout: l, Host: h, StopTimeout: 10 * time.Second}
	ctx := context.Background()
	if running, _, err := s.Running(ctx); running || err != nil {
		t.Fatalf("running before start: %v, %v", running, err)
	}
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	running, pid, err := s.Running(ctx)
	if !running || pid <= 1 || err != nil {
		t.Fatalf("after start: running %v, pid %d, %v", running, pid, err)
	}
	t.Cleanup(func() { _ = h.Signal(ctx, pid, 9) })
	if err := s.Start(ctx); err != nil { // already running: nothing new starts
		t.Fatal(err)
	}
	if _, again, _ := s.Running(ctx); again != pid {
		t.Errorf("a second start replaced pid %d with %d", pid, again)
	}
	for i := 0; i < 250 && !strings.Contains(readOrEmpty(l.LogFile()), "supervising"); i++ { // let it set its trap
		time.Sleep(20 * time.Millisecond)
	}
	if err := s.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if running, _, _ := s.Running(ctx); running {
		t.Error("still running after stop")
	}
	if _, err := os.Stat(l.PIDFile()); !os.IsNotExist(err) {
		t.Error("the pid file outlived the service")
	}
	log, _ := os.ReadFile(l.LogFile())
	if !strings.Contains(string(log), "supervising supervise -- "+filepath.Join(l.K0sBinDir(), "k0s")+" controller") || !strings.Contains(string(log), "stopping") {
		t.Errorf("log:\n%s", log)
	}
	if err := s.Stop(ctx); err != nil { // not running: nothing to do
		t.Fatal(err)
	}
}

// TestStalePIDFile: a PID file naming a process that is not the supervisor is not trusted.
func TestStalePIDFile(t *testing.T) {
	l := datadir.Layout{DataDir: t.TempDir()}
	if err := os.MkdirAll(l.RunDir(), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, content := range []string{"1\n", strconv.Itoa(os.Getpid()) + "\n", "999999999\n", "garbage"} {
		if err := os.WriteFile(l.PIDFile(), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if running, pid, err := (Service{Layout: l, Host: host.System{}}).Running(context.Background()); running || err != nil {
			t.Errorf("pid file %q: running %v (pid %d), %v", content, running, pid, err)
		}
	}
}

func readOrEmpty(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}
