package commands

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/datastax/mission-control/installer"
	"github.com/datastax/mission-control/internal/cli"
	"github.com/datastax/mission-control/internal/golden"
	"github.com/datastax/mission-control/internal/license"
	"github.com/datastax/mission-control/internal/releasekey"
)

// TestDryRunPlan runs the real CLI in-process and checks the whole plan: steps, changes and the
// content of every file, in each output format.
func TestDryRunPlan(t *testing.T) {
	// A fixed path that does not exist, so that file sizes and digests in the plan are stable.
	const dataDir = "/nonexistent/mission-control"
	for _, format := range []string{"text", "yaml", "json"} {
		t.Run(format, func(t *testing.T) {
			r := run(t, testDeps(), "", "install", "--license", exampleLicense, "--data-dir", dataDir, "--cidr", "10.96.0.0/16", "--dry-run", "-o", format)
			if r.code != 0 || r.stderr != "" {
				t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
			}
			golden.Assert(t, stableCerts(t, format, r.stdout), "install-dry-run."+format)
			if exists(dataDir) {
				t.Fatal("a dry run created the data dir")
			}
		})
	}
	r := run(t, testDeps(), "", "install", "--license", exampleLicense, "--data-dir", dataDir, "--dry-run", "-o", "json")
	var plan dryRunPlan
	if err := json.Unmarshal([]byte(r.stdout), &plan); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range plan.Steps {
		names = append(names, s.Step)
	}
	if got := strings.Join(names, " "); got != strings.Join(planNames(), " ") {
		t.Errorf("steps: %s", got)
	}
	k0s := plan.Steps[slices.Index(names, "write-runtime-config")].Changes[0]
	if k0s.Path != dataDir+"/etc/k0s.yaml" || !strings.Contains(k0s.Content, "podCIDR: 10.244.0.0/17") || !strings.Contains(k0s.Content, "serviceCIDR: 10.244.128.0/17") {
		t.Errorf("k0s config change: %+v", k0s)
	}
}

// TestBadInput: every case exits non-zero with exactly one line naming the problem, prints no
// result, and leaves no data dir behind. They run without --dry-run, against the real host.
func TestBadInput(t *testing.T) {
	valid := exampleLicense
	good, err := os.ReadFile(valid)
	if err != nil {
		t.Fatal(err)
	}
	altered := func(old, new string) string {
		if !strings.Contains(string(good), old) {
			t.Fatalf("%q not in the example license", old)
		}
		return writeTemp(t, strings.Replace(string(good), old, new, 1))
	}
	otherKey := func() string {
		_, priv, _ := releasekey.Generate()
		l, _ := license.Sign(license.Spec{LicenseID: "L-X", Customer: "X", IssuedAt: testNow.AddDate(-1, 0, 0), ExpiresAt: testNow.AddDate(1, 0, 0),
			Entitlements: license.Entitlements{Modes: []string{"control-plane"}, MaxNodes: 1}}, priv)
		b, _ := l.Marshal()
		return writeTemp(t, string(b))
	}
	unsigned := writeTemp(t, string(good[:strings.Index(string(good), "signature:")]))

	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		// Flags.
		{"no license", []string{}, "--license is required: pass the license file you were issued"},
		{"unknown mode", []string{"--license", valid, "--mode", "both"}, `--mode "both" is not a mode: use control-plane or data-plane`},
		{"empty mode", []string{"--license", valid, "--mode", ""}, `--mode "" is not a mode`},
		{"relative data dir", []string{"--license", valid, "--data-dir", "mc"}, `--data-dir "mc" is relative`},
		{"root data dir", []string{"--license", valid, "--data-dir", "/"}, "--data-dir / is a system directory"},
		{"system data dir", []string{"--license", valid, "--data-dir", "/etc"}, "--data-dir /etc is a system directory"},
		{"data dir with a space", []string{"--license", valid, "--data-dir", "/var/lib/mc dir"}, "may contain only letters"},
		{"unclean data dir", []string{"--license", valid, "--data-dir", "/var/lib//mc/"}, "is not a clean path: write it as /var/lib/mc"},
		{"bad release name", []string{"--license", valid, "--release-name", "Mission_Control"}, `--release-name "Mission_Control" is not a Helm release name`},
		{"long release name", []string{"--license", valid, "--release-name", strings.Repeat("a", 54)}, "is not a Helm release name (at most 53 lowercase"},
		{"bad context name", []string{"--license", valid, "--context-name", "cp east"}, `--context-name "cp east" is not a context name: use letters, digits, '-', '_' and '.', at most 63, e.g. CP_EAST`},
		{"bad StorageClass name", []string{"--license", valid, "--storage-class-name", "Local_Disk"}, `--storage-class-name "Local_Disk" is not a StorageClass name (lowercase letters, digits, '-' and '.', at most 253): use e.g. mission-control-local`},
		{"bad volume space", []string{"--license", valid, "--volume-space", "lots"}, `--volume-space "lots" is not a size: give the room volumes need on the data dir's filesystem, e.g. --volume-space 100Gi (0 counts none)`},
		{"negative volume space", []string{"--license", valid, "--volume-space", "-1Gi"}, `--volume-space "-1Gi" is not a size`},
		{"empty release name", []string{"--license", valid, "--release-name", ""}, "--release-name is empty"},
		{"bad interface name", []string{"--license", valid, "--network-interface", "eth/0"}, `--network-interface "eth/0" is not an interface name`},
		{"telemetry on a control plane", []string{"--license", valid, "--telemetry-aggregator-url", "http://10.0.0.5:30600"}, "--telemetry-aggregator-url is for data planes (--mode data-plane): a control plane runs the aggregator itself"},
		{"telemetry without a scheme", []string{"--license", valid, "--mode", "data-plane", "--telemetry-aggregator-url", "10.0.0.5:30600"}, `--telemetry-aggregator-url "10.0.0.5:30600" is not the aggregator's address: give http:// and a control plane node's address, e.g. --telemetry-aggregator-url http://10.0.0.5:30600`},
		{"telemetry with a path", []string{"--license", valid, "--mode", "data-plane", "--telemetry-aggregator-url", "http://cp-east/api"}, `--telemetry-aggregator-url "http://cp-east/api" is not the aggregator's address`},
		{"telemetry port out of range", []string{"--license", valid, "--mode", "data-plane", "--telemetry-aggregator-url", "http://cp-east:70000"}, `--telemetry-aggregator-url "http://cp-east:70000": port 70000 is not a port`},
		{"oidc without https", []string{"--license", valid, "--oidc-issuer-url", "http://sso.example.com", "--oidc-client-id", "mc"}, `--oidc-issuer-url "http://sso.example.com" is not an issuer: give its https:// URL exactly as its ID tokens' iss claim, e.g. --oidc-issuer-url https://sso.example.com/realms/ops`},
		{"oidc without a client", []string{"--license", valid, "--oidc-issuer-url", "https://sso.example.com"}, "--oidc-issuer-url needs --oidc-client-id: the client ID the issuer's ID tokens name as audience, e.g. --oidc-client-id mission-control"},
		{"oidc client without an issuer", []string{"--license", valid, "--oidc-client-id", "mc"}, "--oidc-* flags need --oidc-issuer-url: give the issuer's URL, e.g. --oidc-issuer-url https://sso.example.com/realms/ops"},
		{"oidc on a data plane", []string{"--license", valid, "--mode", "data-plane", "--oidc-issuer-url", "https://sso.example.com", "--oidc-client-id", "mc"}, `--oidc-issuer-url "https://sso.example.com": only a control plane signs users in (its Mission Control UI); leave it out of a data plane's install`},
		{"oidc bad claim", []string{"--license", valid, "--oidc-issuer-url", "https://sso.example.com", "--oidc-client-id", "mc", "--oidc-groups-claim", "my groups"}, `--oidc-groups-claim "my groups" is not a claim name: give one like email or groups`},
		{"oidc CA missing", []string{"--license", valid, "--oidc-issuer-url", "https://sso.example.com", "--oidc-client-id", "mc", "--oidc-ca-file", "/nonexistent/ca.pem"}, "check-sign-in: --oidc-ca-file: "},
		{"oidc CA not PEM", []string{"--license", valid, "--oidc-issuer-url", "https://sso.example.com", "--oidc-client-id", "mc", "--oidc-ca-file", writeTemp(t, "not a certificate")}, "holds no PEM certificate: give the CA that signed the issuer's certificate"},
		{"missing interface", []string{"--license", valid, "--network-interface", "eth9"}, `plan-network: network interface "eth9" does not exist; choose one of: eth0, eth1`},
		{"unknown flag", []string{"--license", valid, "--colour"}, "unknown flag: --colour (see mission-control install --help)"},
		{"positional argument", []string{"--license", valid, "now"}, `unknown command "now" for "mission-control install"`},
		{"bad output format", []string{"--license", valid, "-o", "xml"}, `"xml" is not a format: use text, yaml or json`},
		{"bad boolean", []string{"--license", valid, "--yes=maybe"}, `invalid argument "maybe" for "--yes" flag`},
		// Network ranges.
		{"non-canonical cidr", []string{"--license", valid, "--cidr", "10.0.0.1/16"}, `--cidr: "10.0.0.1/16" is not a network address; did you mean 10.0.0.0/16?`},
		{"public cidr", []string{"--license", valid, "--cidr", "8.8.0.0/16"}, "--cidr: 8.8.0.0/16 is not a private range"},
		{"ipv6 cidr", []string{"--license", valid, "--cidr", "fd00::/64"}, `--cidr: "fd00::/64" is not IPv4`},
		{"garbage cidr", []string{"--license", valid, "--cidr", "ten-dot-zero"}, `--cidr: "ten-dot-zero" is not a CIDR range`},
		{"cidr too small", []string{"--license", valid, "--cidr", "10.0.0.0/17"}, "--cidr: 10.0.0.0/17 is too small"},
		{"cidr too large", []string{"--license", valid, "--cidr", "10.0.0.0/8"}, "--cidr: 10.0.0.0/8 is too large"},
		{"cidr overlaps a route", []string{"--license", valid, "--cidr", "10.0.0.0/16"}, "plan-network: pod range 10.0.0.0/17 overlaps host route 10.0.5.0/24 on eth1; choose a free range, e.g. --cidr 10.1.0.0/16"},
		{"cidr with pod cidr", []string{"--license", valid, "--cidr", "192.168.0.0/16", "--pod-cidr", "10.1.0.0/16"}, "--cidr cannot be combined with --pod-cidr or --service-cidr"},
		{"pod cidr alone", []string{"--license", valid, "--pod-cidr", "10.10.0.0/16"}, "--pod-cidr and --service-cidr must be given together"},
		{"overlapping ranges", []string{"--license", valid, "--pod-cidr", "10.10.0.0/16", "--service-cidr", "10.10.0.0/20"}, "overlap; choose two disjoint ranges"},
		{"service cidr too large", []string{"--license", valid, "--pod-cidr", "10.10.0.0/16", "--service-cidr", "10.32.0.0/11"}, "--service-cidr: 10.32.0.0/11 is too large"},
		{"pod cidr too small", []string{"--license", valid, "--pod-cidr", "10.10.0.0/25", "--service-cidr", "10.20.0.0/20"}, "--pod-cidr: 10.10.0.0/25 is too small"},
		{"explicit range overlaps a route", []string{"--license", valid, "--pod-cidr", "10.0.0.0/16", "--service-cidr", "10.20.0.0/20"}, "plan-network: pod range 10.0.0.0/16 overlaps host route 10.0.5.0/24 on eth1; choose a free range, e.g. --pod-cidr 10.1.0.0/16"},
		// Licenses.
		{"missing license", []string{"--license", "/nonexistent/license.yaml"}, "license file /nonexistent/license.yaml does not exist"},
		{"license is a directory", []string{"--license", t.TempDir()}, "read license file"},
		{"empty license", []string{"--license", writeTemp(t, "")}, "the file is empty"},
		{"not yaml", []string{"--license", writeTemp(t, "\tnot: [yaml")}, "not a YAML document"},
		{"wrong kind", []string{"--license", writeTemp(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")}, `not a mission-control license (kind "ConfigMap", apiVersion "v1"`},
		{"unsigned", []string{"--license", unsigned}, "not signed; use the signed license file you were issued"},
		{"altered customer", []string{"--license", altered("customer: Example Corp", "customer: Other Corp")}, "signature does not match its contents: the file was altered or damaged"},
		{"raised max nodes", []string{"--license", altered("maxNodes: 10", "maxNodes: 11")}, "signature does not match its contents"},
		{"extended expiry", []string{"--license", altered("2036-01-01", "2046-01-01")}, "signature does not match its contents"},
		{"added field", []string{"--license", altered("  customer:", "  discount: 100\n  customer:")}, `unknown field "discount"`},
		{"another key", []string{"--license", otherKey()}, "signed by key"},
		{"expired", []string{"--license", signLicense(t, func(s *license.Spec) { s.ExpiresAt = testNow.Add(-24 * time.Hour) })}, "L-CLI-1 expired on 2026-11-21T12:00:00Z; request a renewed license"},
		{"not yet valid", []string{"--license", signLicense(t, func(s *license.Spec) { s.IssuedAt = testNow.Add(48 * time.Hour) })}, "L-CLI-1 is not valid before 2026-11-24T12:00:00Z"},
		{"mode not entitled", []string{"--license", signLicense(t, func(s *license.Spec) { s.Entitlements.Modes = []string{"data-plane"} })}, "L-CLI-1 does not entitle control-plane mode (entitled: data-plane); use --mode data-plane"},
		{"airgap not entitled", []string{"--license", signLicense(t, nil), "--airgap-bundle", "/tmp/x.airgap"}, "L-CLI-1 does not entitle air-gapped installs"},
		{"airgap bundle missing", []string{"--license", valid, "--airgap-bundle", "/tmp/x.airgap"}, "--airgap-bundle /tmp/x.airgap does not exist: pass the path of mission-control-"},
	}
	if len(tests) < 30 {
		t.Fatalf("only %d bad-input cases", len(tests))
	}
	for _, tt := range tests {
		for _, dry := range []bool{false, true} {
			name := tt.name
			if dry {
				name += "/dry-run"
			}
			t.Run(name, func(t *testing.T) {
				dataDir := filepath.Join(t.TempDir(), "mc")
				args := append([]string{"install", "--data-dir", dataDir, "--yes"}, tt.args...)
				if dry {
					args = append(args, "--dry-run")
				}
				r := run(t, testDeps(), "", args...)
				if r.code == 0 {
					t.Fatalf("exit 0; stdout:\n%s", r.stdout)
				}
				assertOneErrorLine(t, r.stderr)
				if !strings.Contains(r.stderr, tt.wantErr) {
					t.Fatalf("stderr %q does not contain %q", r.stderr, tt.wantErr)
				}
				if r.stdout != "" {
					t.Errorf("stdout is not empty:\n%s", r.stdout)
				}
				if exists(dataDir) {
					t.Fatal("the data dir was created")
				}
			})
		}
	}
}

func TestSeveralProblemsOneLineEach(t *testing.T) {
	r := run(t, testDeps(), "", "install", "--mode", "x", "--cidr", "1.0.0.0/16")
	want := "Error: --license is required: pass the license file you were issued, e.g. --license license.yaml\n" +
		"Error: --mode \"x\" is not a mode: use control-plane or data-plane\n" +
		"Error: --cidr: 1.0.0.0/16 is not a private range; use one inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16\n"
	if r.code != 1 || r.stderr != want {
		t.Errorf("exit %d, stderr:\n%s\nwant:\n%s", r.code, r.stderr, want)
	}
}

func TestForeignDataDirIsLeftAlone(t *testing.T) {
	dataDir := t.TempDir()
	precious := filepath.Join(dataDir, "precious.db")
	if err := os.WriteFile(precious, []byte("data"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range [][]string{
		{"install", "--license", exampleLicense, "--data-dir", dataDir, "--yes"},
		{"reset", "--data-dir", dataDir, "--yes"},
	} {
		r := run(t, testDeps(), "", cmd...)
		if r.code != 1 || !strings.Contains(r.stderr, "holds no mission-control install") {
			t.Errorf("%s: exit %d, stderr %s", cmd[0], r.code, r.stderr)
		}
	}
	if names, _ := os.ReadDir(dataDir); len(names) != 1 {
		t.Errorf("the foreign data dir changed: %v", names)
	}
}

func TestConfirmation(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "mc")
	args := []string{"install", "--license", exampleLicense, "--data-dir", dataDir}

	deps := testDeps()
	deps.Geteuid = func() int { return 1000 }
	// Before any check: a user's checks would fail on what the user cannot read.
	if r := run(t, deps, "", append(args, "--yes")...); r.code != 1 || r.stderr != "Error: install changes this host and must run as root: run it again with sudo\n" {
		t.Errorf("install as a user: exit %d, stderr %q", r.code, r.stderr)
	}
	if r := run(t, deps, "", "reset", "--data-dir", dataDir, "--yes"); r.code != 1 || r.stderr != "Error: reset changes this host and must run as root: run it again with sudo\n" {
		t.Errorf("reset as a user: exit %d, stderr %q", r.code, r.stderr)
	}
	deps = testDeps()
	if r := run(t, deps, "", args...); r.code != 1 || !strings.Contains(r.stderr, "there is no terminal to confirm on: pass --yes") {
		t.Errorf("without a terminal: exit %d, stderr %q", r.code, r.stderr)
	}
	// install < /dev/null: a character device, but no person can answer on it.
	null, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	deps.Interactive = SystemDeps().Interactive
	var out, errOut bytes.Buffer
	if code := Run(context.Background(), cli.Streams{In: null, Out: &out, Err: &errOut}, args, deps); code != 1 || !strings.Contains(errOut.String(), "there is no terminal to confirm on: pass --yes") {
		t.Errorf("< /dev/null: exit %d, stderr %q", code, errOut.String())
	}
	deps.Interactive = func(io.Reader) bool { return true }
	r := run(t, deps, "n\n", args...)
	if r.code != 1 || !strings.Contains(r.stderr, "Install mission-control (control-plane) on this host?") || !strings.Contains(r.stderr, "Error: install cancelled: nothing was changed") {
		t.Errorf("declined: exit %d, stderr %q", r.code, r.stderr)
	}
	if exists(dataDir) {
		t.Fatal("the data dir was created before confirmation")
	}
}

// assertOneErrorLine checks that stderr ends with exactly one "Error:" line; progress lines
// (checks that passed before the failing one) may precede it.
func assertOneErrorLine(t *testing.T, stderr string) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
	for i, l := range lines {
		last := i == len(lines)-1
		switch {
		case last && strings.HasPrefix(l, "Error: "):
		case !last && (strings.HasPrefix(l, "  ✓ ") || strings.HasPrefix(l, "  ✗ ")):
		default:
			t.Fatalf("stderr is not progress followed by one error line:\n%s", stderr)
		}
	}
}

func planNames() []string {
	var names []string
	for _, s := range installer.Plan(installer.DefaultConfig()) {
		names = append(names, s.Name)
	}
	return names
}

// stableCerts hides what differs between runs in a plan: the generated certificates' bytes.
func stableCerts(t *testing.T, format, plan string) string {
	t.Helper()
	if format == "text" {
		plan = regexp.MustCompile(`(?s)-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----`).ReplaceAllString(plan, "<generated certificate>")
		return regexp.MustCompile(`(pki/(?:webhook|api)/[a-z.]+ \(06[04]4), \d+ bytes`).ReplaceAllString(plan, "$1, <generated> bytes")
	}
	var doc map[string]any
	if err := yaml.Unmarshal([]byte(plan), &doc); err != nil {
		t.Fatal(err)
	}
	for _, step := range doc["steps"].([]any) {
		changes, _ := step.(map[string]any)["changes"].([]any)
		for _, c := range changes {
			op := c.(map[string]any)
			if path, _ := op["path"].(string); strings.Contains(path, "/pki/") && op["op"] == "write" {
				op["sha256"], op["size"] = "<generated>", 0
				if op["content"] != nil {
					op["content"] = "<generated certificate>"
				}
			}
		}
	}
	var out []byte
	var err error
	if format == "json" {
		out, err = json.MarshalIndent(doc, "", "  ")
	} else {
		out, err = yaml.Marshal(doc)
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}
