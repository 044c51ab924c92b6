package commands

import (
	"bytes"
	"context"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/datastax/mission-control/installer/preflight"
	"github.com/datastax/mission-control/installer/preflight/preflighttest"
	"github.com/datastax/mission-control/internal/cli"
	"github.com/datastax/mission-control/internal/host/hosttest"
	"github.com/datastax/mission-control/internal/license"
	"github.com/datastax/mission-control/internal/license/licensetest"
	"github.com/datastax/mission-control/internal/network"
	"github.com/datastax/mission-control/runtime/payload"
	"github.com/datastax/mission-control/runtime/payload/payloadtest"
	"github.com/datastax/mission-control/supportbundle"
)

var testNow = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

type fakeNetwork struct{}

func (fakeNetwork) Routes() ([]network.Route, error) {
	return []network.Route{
		{Dst: netip.MustParsePrefix("0.0.0.0/0"), Interface: "eth0"},
		{Dst: netip.MustParsePrefix("192.0.2.0/24"), Interface: "eth0"},
		{Dst: netip.MustParsePrefix("10.0.5.0/24"), Interface: "eth1"},
	}, nil
}

func (fakeNetwork) Interfaces() ([]network.Interface, error) {
	return []network.Interface{
		{Name: "lo", Up: true, Loopback: true, Addrs: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/8")}},
		{Name: "eth0", Up: true, Addrs: []netip.Prefix{netip.MustParsePrefix("192.0.2.2/24")}},
		{Name: "eth1", Up: true, Addrs: []netip.Prefix{netip.MustParsePrefix("10.0.5.9/24")}},
	}, nil
}

// testDeps is a fixed machine: a roomy host with the network above, run as root, at testNow.
func testDeps() Deps {
	return Deps{
		Facts: func(_ context.Context, in preflight.Input) (preflight.Facts, error) {
			f := preflighttest.Roomy().Facts(in.Mode)
			var err error
			if f.Taken, err = network.Taken(fakeNetwork{}); err != nil {
				return f, err
			}
			if f.Node, err = network.SelectNode(fakeNetwork{}, in.NetworkInterface); err != nil {
				f.NodeError = err.Error()
			}
			return f, nil
		},
		SupportBundle: supportbundle.Collect,
		Network:       fakeNetwork{},
		Now:           func() time.Time { return testNow },
		Geteuid:       func() int { return 0 },
		Interactive:   func(io.Reader) bool { return false },
		Host:          hosttest.Fresh{},
		Payload:       func() (*payload.Payload, error) { return testPayload, nil },
		Self:          func() (string, error) { return "testdata/fake-mission-control", nil },
		WaitTimeout:   time.Minute,
	}
}

// testPayload is a small fake payload, shared so that its digests are stable within a run.
var testPayload = func() *payload.Payload {
	p, err := payloadtest.Build()
	if err != nil {
		panic(err)
	}
	return p
}()

type result struct {
	code           int
	stdout, stderr string
}

func run(t *testing.T, deps Deps, stdin string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Run(context.Background(), cli.Streams{In: strings.NewReader(stdin), Out: &out, Err: &errOut}, args, deps)
	return result{code: code, stdout: out.String(), stderr: errOut.String()}
}

const exampleLicense = "../../../examples/license.yaml"

// signLicense writes a valid development-signed license, changed by mutate.
func signLicense(t *testing.T, mutate func(*license.Spec)) string {
	t.Helper()
	spec := licensetest.Spec("L-CLI-1", testNow)
	if mutate != nil {
		mutate(&spec)
	}
	return licensetest.Write(t, spec)
}

func writeTemp(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "license.yaml")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}
