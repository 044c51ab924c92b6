package license

import (
	"bytes"
	"crypto/ed25519"
	"strings"
	"testing"
	"time"

	"github.com/datastax/mission-control/internal/releasekey"
)

var now = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

func validSpec() Spec {
	return Spec{
		LicenseID: "L-TEST-1",
		Customer:  "Example Corp",
		IssuedAt:  now.Add(-24 * time.Hour),
		ExpiresAt: now.Add(365 * 24 * time.Hour),
		Entitlements: Entitlements{
			Modes:    []string{ModeControlPlane, ModeDataPlane},
			MaxNodes: 3,
			Airgap:   false,
		},
	}
}

func newKey(t testing.TB) ed25519.PrivateKey {
	t.Helper()
	_, priv, err := releasekey.Generate()
	if err != nil {
		t.Fatal(err)
	}
	return priv
}

func signed(t testing.TB, key ed25519.PrivateKey, spec Spec) []byte {
	t.Helper()
	l, err := Sign(spec, key)
	if err != nil {
		t.Fatal(err)
	}
	b, err := l.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func pubOf(k ed25519.PrivateKey) ed25519.PublicKey { return k.Public().(ed25519.PublicKey) }

// load is what callers do: parse, verify, check the entitlement.
func load(data []byte, pub ed25519.PublicKey, mode string, airgap bool) error {
	l, err := Parse(data)
	if err != nil {
		return err
	}
	if err := l.Verify(pub, now); err != nil {
		return err
	}
	return l.Entitles(mode, airgap)
}

func TestRoundTrip(t *testing.T) {
	key := newKey(t)
	data := signed(t, key, validSpec())
	if err := load(data, pubOf(key), ModeDataPlane, false); err != nil {
		t.Fatalf("valid license refused: %v\n%s", err, data)
	}
	l, _ := Parse(data)
	if l.Spec.LicenseID != "L-TEST-1" || !l.Spec.ExpiresAt.Equal(validSpec().ExpiresAt) || l.Spec.Entitlements.MaxNodes != 3 {
		t.Errorf("round trip lost fields: %+v", l.Spec)
	}
}

// TestHandWrittenTimestamps checks that unquoted YAML timestamps and another time zone for the
// same instant still verify: the canonical form is the instant, not its spelling.
func TestHandWrittenTimestamps(t *testing.T) {
	key := newKey(t)
	spec := validSpec()
	spec.IssuedAt = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	spec.ExpiresAt = time.Date(2036, 1, 1, 0, 0, 0, 0, time.UTC)
	data := signed(t, key, spec)
	data = bytes.Replace(data, []byte(`"2026-01-01T00:00:00Z"`), []byte(`2026-01-01T01:00:00+01:00`), 1)
	data = bytes.Replace(data, []byte(`"2036-01-01T00:00:00Z"`), []byte(`2036-01-01T00:00:00Z`), 1)
	if !bytes.Contains(data, []byte("issuedAt: 2026-01-01T01:00:00+01:00")) {
		t.Fatalf("replacement did not apply:\n%s", data)
	}
	if err := load(data, pubOf(key), ModeControlPlane, false); err != nil {
		t.Fatalf("refused: %v\n%s", err, data)
	}
}

func TestRefusals(t *testing.T) {
	key := newKey(t)
	other := newKey(t)
	good := string(signed(t, key, validSpec()))
	mutate := func(f func(*Spec)) string {
		s := validSpec()
		f(&s)
		return string(signed(t, key, s))
	}
	replace := func(old, new string) string {
		if !strings.Contains(good, old) {
			t.Fatalf("%q not in license:\n%s", old, good)
		}
		return strings.Replace(good, old, new, 1)
	}
	unsigned := good[:strings.Index(good, "signature:")]
	l, _ := Parse([]byte(good))
	sigValue := l.Signature.Value

	tests := []struct {
		name    string
		data    string
		mode    string
		airgap  bool
		wantErr string
	}{
		{name: "empty", data: "", wantErr: "the file is empty"},
		{name: "whitespace", data: "  \n\t\n", wantErr: "the file is empty"},
		{name: "not yaml", data: "{{{ not yaml", wantErr: "not a YAML document"},
		{name: "binary", data: "\x00\x01\x02\xff", wantErr: "not"},
		{name: "wrong kind", data: strings.Replace(good, "kind: License", "kind: Secret", 1), wantErr: `not a mission-control license (kind "Secret"`},
		{name: "kubernetes manifest", data: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n", wantErr: `kind "ConfigMap", apiVersion "v1"`},
		{name: "wrong apiVersion", data: replace("apiVersion: "+APIVersion, "apiVersion: license.example.com/v9"), wantErr: "not a mission-control license"},
		{name: "unknown field", data: replace("customer:", "extra: 1\n  customer:"), wantErr: `malformed license: error unmarshaling JSON: while decoding JSON: json: unknown field "extra"`},
		{name: "duplicate field", data: replace("customer:", "customer: Someone Else\n  customer:"), wantErr: "malformed license"},
		{name: "bad timestamp", data: replace("expiresAt: \"", "expiresAt: \"never"), wantErr: "malformed license"},
		{name: "unsigned", data: unsigned, wantErr: "not signed"},
		{name: "empty signature", data: replace("value: "+sigValue, `value: ""`), wantErr: "not signed"},
		{name: "other algorithm", data: replace("algorithm: ed25519", "algorithm: rsa"), wantErr: `signed with "rsa", but only ed25519 is accepted`},
		{name: "other key", data: string(signed(t, other, validSpec())), wantErr: "signed by key " + releasekey.ID(pubOf(other)) + ", but this build trusts key " + releasekey.ID(pubOf(key))},
		{name: "key id swapped", data: strings.Replace(string(signed(t, other, validSpec())), releasekey.ID(pubOf(other)), releasekey.ID(pubOf(key)), 1), wantErr: "signature does not match its contents"},
		{name: "signature not base64", data: replace("value: "+sigValue, `value: "***"`), wantErr: "signature does not match"},
		{name: "customer altered", data: replace("customer: Example Corp", "customer: Example Corp2"), wantErr: "signature does not match its contents: the file was altered or damaged"},
		{name: "license id altered", data: replace("licenseID: L-TEST-1", "licenseID: L-TEST-2"), wantErr: "signature does not match"},
		{name: "expiry extended", data: replace("expiresAt: \"2027", "expiresAt: \"2037"), wantErr: "signature does not match"},
		{name: "issued altered", data: replace("issuedAt: \"2026-11-21", "issuedAt: \"2026-11-20"), wantErr: "signature does not match"},
		{name: "max nodes raised", data: replace("maxNodes: 3", "maxNodes: 300"), wantErr: "signature does not match"},
		{name: "airgap granted", data: replace("airgap: false", "airgap: true"), wantErr: "signature does not match"},
		{name: "mode removed", data: replace("\n    - data-plane", ""), wantErr: "signature does not match"},
		{name: "signature truncated", data: replace("value: ", "value: AAAA"), wantErr: "signature does not match"},
		{name: "expired", data: mutate(func(s *Spec) { s.IssuedAt = now.Add(-48 * time.Hour); s.ExpiresAt = now.Add(-time.Hour) }), wantErr: "L-TEST-1 expired on 2026-11-22T11:00:00Z; request a renewed license"},
		{name: "expires now", data: mutate(func(s *Spec) { s.ExpiresAt = now }), wantErr: "expired"},
		{name: "not yet valid", data: mutate(func(s *Spec) { s.IssuedAt = now.Add(time.Hour); s.ExpiresAt = now.Add(48 * time.Hour) }), wantErr: "L-TEST-1 is not valid before 2026-11-22T13:00:00Z; check this host's clock"},
		{name: "mode not entitled", data: mutate(func(s *Spec) { s.Entitlements.Modes = []string{ModeDataPlane} }), mode: ModeControlPlane, wantErr: "L-TEST-1 does not entitle control-plane mode (entitled: data-plane); use --mode data-plane or request an extended license"},
		{name: "airgap not entitled", data: good, airgap: true, wantErr: "L-TEST-1 does not entitle air-gapped installs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mode := tt.mode
			if mode == "" {
				mode = ModeControlPlane
			}
			err := load([]byte(tt.data), pubOf(key), mode, tt.airgap)
			if err == nil {
				t.Fatalf("accepted:\n%s", tt.data)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %q does not contain %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error spans several lines: %q", err)
			}
		})
	}
}

func TestSignRefusesInvalidSpecs(t *testing.T) {
	key := newKey(t)
	tests := []struct {
		name    string
		mutate  func(*Spec)
		wantErr string
	}{
		{"no id", func(s *Spec) { s.LicenseID = " " }, "licenseID is empty"},
		{"no customer", func(s *Spec) { s.Customer = "" }, "customer is empty"},
		{"no expiry", func(s *Spec) { s.ExpiresAt = time.Time{} }, "issuedAt and expiresAt must be set"},
		{"expiry before issue", func(s *Spec) { s.ExpiresAt = s.IssuedAt.Add(-time.Second) }, "expiresAt is not after issuedAt"},
		{"no modes", func(s *Spec) { s.Entitlements.Modes = nil }, "no mode is entitled"},
		{"unknown mode", func(s *Spec) { s.Entitlements.Modes = []string{"everything"} }, `unknown mode "everything"`},
		{"duplicate mode", func(s *Spec) { s.Entitlements.Modes = []string{ModeDataPlane, ModeDataPlane} }, `mode "data-plane" is listed twice`},
		{"zero nodes", func(s *Spec) { s.Entitlements.MaxNodes = 0 }, "maxNodes must be at least 1"},
		{"several problems", func(s *Spec) { s.Customer = ""; s.Entitlements.MaxNodes = -1 }, "customer is empty; maxNodes must be at least 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := validSpec()
			tt.mutate(&s)
			_, err := Sign(s, key)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Sign error = %v, want %q", err, tt.wantErr)
			}
		})
	}
}
