// Package license parses, signs and verifies mission-control licenses: a YAML document whose spec
// is signed with ed25519 over a canonical encoding. Verification is offline, against the release
// key compiled into the binary (package releasekey).
package license

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/datastax/mission-control/internal/host"
	"github.com/datastax/mission-control/internal/releasekey"
)

// The document's type. A different apiVersion or kind is refused, so that a config file or a
// Kubernetes manifest passed by mistake gets a precise message.
const (
	APIVersion = "license.missioncontrol.datastax.com/v1"
	Kind       = "License"
	Algorithm  = "ed25519"
)

// Modes a license can entitle.
const (
	ModeControlPlane = "control-plane"
	ModeDataPlane    = "data-plane"
)

// signingContext separates license signatures from anything else the same key might sign.
const signingContext = "mission-control-license-v1\n"

// clockSkew tolerates a host clock slightly behind the vendor's when checking IssuedAt.
const clockSkew = 10 * time.Minute

// License is a license document.
type License struct {
	APIVersion string     `json:"apiVersion"`
	Kind       string     `json:"kind"`
	Spec       Spec       `json:"spec"`
	Signature  *Signature `json:"signature,omitempty"`
}

// Spec is the signed part of a license.
type Spec struct {
	LicenseID    string       `json:"licenseID"`
	Customer     string       `json:"customer"`
	IssuedAt     time.Time    `json:"issuedAt"`
	ExpiresAt    time.Time    `json:"expiresAt"`
	Entitlements Entitlements `json:"entitlements"`
}

// Entitlements are what the license allows.
type Entitlements struct {
	Modes    []string `json:"modes"`
	MaxNodes int      `json:"maxNodes"`
	Airgap   bool     `json:"airgap"`
}

// Signature is an ed25519 signature over the canonical encoding of the spec.
type Signature struct {
	Algorithm string `json:"algorithm"`
	KeyID     string `json:"keyID"`
	Value     string `json:"value"`
}

// Parse decodes a license document strictly: unknown or duplicate fields are refused, so nothing
// can be added beside the signed spec unnoticed. It does not verify the signature.
func Parse(data []byte) (*License, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.New("the file is empty")
	}
	var probe struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}
	if err := yaml.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("not a YAML document: %s", oneLine(err))
	}
	if probe.Kind != Kind || probe.APIVersion != APIVersion {
		return nil, fmt.Errorf("not a mission-control license (kind %q, apiVersion %q; want kind %s, apiVersion %s)", probe.Kind, probe.APIVersion, Kind, APIVersion)
	}
	var l License
	if err := yaml.UnmarshalStrict(data, &l); err != nil {
		return nil, fmt.Errorf("malformed license: %s", oneLine(err))
	}
	return &l, nil
}

// ReadFile reads and parses the license file at path through r. Its errors name the file and
// say what to do; it does not verify the signature.
func ReadFile(r host.Reader, path string) (*License, error) {
	data, err := r.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("license file %s does not exist: pass the path of the license file you were issued", path)
	case errors.Is(err, fs.ErrPermission):
		return nil, fmt.Errorf("license file %s is not readable: check its permissions, or run with sudo", path)
	case err != nil:
		return nil, fmt.Errorf("read license file %s: %w", path, err)
	}
	l, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("license %s: %w", path, err)
	}
	return l, nil
}

// oneLine keeps parser errors, which may quote the input, on one line.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

// Canonical is the exact byte string that is signed: a context prefix and the spec as JSON with
// fixed field order and timestamps in UTC, so that equal specs always sign equally.
func (s Spec) Canonical() []byte {
	s.IssuedAt, s.ExpiresAt = s.IssuedAt.UTC(), s.ExpiresAt.UTC()
	b, err := json.Marshal(s)
	if err != nil {
		panic(fmt.Sprintf("license spec cannot be encoded: %v", err)) // only plain fields: unreachable
	}
	return append([]byte(signingContext), b...)
}

// Validate reports whether the spec is complete and consistent. Sign refuses invalid specs and
// Verify re-checks them, so a license is never half-usable.
func (s Spec) Validate() error {
	var problems []string
	if strings.TrimSpace(s.LicenseID) == "" {
		problems = append(problems, "licenseID is empty")
	}
	if strings.TrimSpace(s.Customer) == "" {
		problems = append(problems, "customer is empty")
	}
	if s.IssuedAt.IsZero() || s.ExpiresAt.IsZero() {
		problems = append(problems, "issuedAt and expiresAt must be set")
	} else if !s.ExpiresAt.After(s.IssuedAt) {
		problems = append(problems, "expiresAt is not after issuedAt")
	}
	if len(s.Entitlements.Modes) == 0 {
		problems = append(problems, "no mode is entitled")
	}
	for i, m := range s.Entitlements.Modes {
		if m != ModeControlPlane && m != ModeDataPlane {
			problems = append(problems, fmt.Sprintf("unknown mode %q (want %s or %s)", m, ModeControlPlane, ModeDataPlane))
		} else if slices.Index(s.Entitlements.Modes, m) != i {
			problems = append(problems, fmt.Sprintf("mode %q is listed twice", m))
		}
	}
	if s.Entitlements.MaxNodes < 1 {
		problems = append(problems, "maxNodes must be at least 1")
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// Sign returns a signed license for spec.
func Sign(spec Spec, key ed25519.PrivateKey) (*License, error) {
	if err := spec.Validate(); err != nil {
		return nil, fmt.Errorf("invalid license spec: %w", err)
	}
	spec.IssuedAt, spec.ExpiresAt = spec.IssuedAt.UTC(), spec.ExpiresAt.UTC()
	pub := key.Public().(ed25519.PublicKey)
	return &License{
		APIVersion: APIVersion,
		Kind:       Kind,
		Spec:       spec,
		Signature: &Signature{
			Algorithm: Algorithm,
			KeyID:     releasekey.ID(pub),
			Value:     base64.StdEncoding.EncodeToString(ed25519.Sign(key, spec.Canonical())),
		},
	}, nil
}

// header tells whoever opens the file why editing it breaks it.
const header = "# mission-control license. Any edit invalidates the signature; keep this file as issued.\n"

// Marshal encodes a license as YAML: a comment, the type, the spec, then the signature.
func (l *License) Marshal() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(header)
	fmt.Fprintf(&b, "apiVersion: %s\nkind: %s\n", l.APIVersion, l.Kind)
	parts := []struct {
		key string
		v   any
	}{{"spec", l.Spec}, {"signature", l.Signature}}
	for _, p := range parts {
		if p.v == (*Signature)(nil) {
			continue
		}
		y, err := yaml.Marshal(p.v)
		if err != nil {
			return nil, fmt.Errorf("encode license %s: %w", p.key, err)
		}
		b.WriteString(p.key + ":\n")
		for _, line := range strings.SplitAfter(strings.TrimSuffix(string(y), "\n"), "\n") {
			b.WriteString("  " + line)
		}
		b.WriteString("\n")
	}
	return b.Bytes(), nil
}

// Verify checks the signature against pub and that the license is valid at now. The errors say
// what is wrong and what to do; callers prefix them with the file name.
func (l *License) Verify(pub ed25519.PublicKey, now time.Time) error {
	sig := l.Signature
	if sig == nil || sig.Value == "" {
		return errors.New("not signed; use the signed license file you were issued")
	}
	if sig.Algorithm != Algorithm {
		return fmt.Errorf("signed with %q, but only %s is accepted; request a current license", sig.Algorithm, Algorithm)
	}
	if sig.KeyID != releasekey.ID(pub) {
		return fmt.Errorf("signed by key %s, but this build trusts key %s; use a license issued for this build", sig.KeyID, releasekey.ID(pub))
	}
	raw, err := base64.StdEncoding.DecodeString(sig.Value)
	if err != nil || len(raw) != ed25519.SignatureSize || !ed25519.Verify(pub, l.Spec.Canonical(), raw) {
		return errors.New("signature does not match its contents: the file was altered or damaged; use the original license file")
	}
	if err := l.Spec.Validate(); err != nil {
		return fmt.Errorf("invalid: %w; request a new license", err)
	}
	if now.Add(clockSkew).Before(l.Spec.IssuedAt) {
		return fmt.Errorf("%s is not valid before %s; check this host's clock", l.Spec.LicenseID, l.Spec.IssuedAt.UTC().Format(time.RFC3339))
	}
	if !now.Before(l.Spec.ExpiresAt) {
		return fmt.Errorf("%s expired on %s; request a renewed license", l.Spec.LicenseID, l.Spec.ExpiresAt.UTC().Format(time.RFC3339))
	}
	return nil
}

// Entitles reports whether the license allows installing in mode, from an air-gap bundle or not.
func (l *License) Entitles(mode string, airgap bool) error {
	e := l.Spec.Entitlements
	if len(e.Modes) == 0 {
		return fmt.Errorf("%s entitles no mode; request a new license", l.Spec.LicenseID)
	}
	if !slices.Contains(e.Modes, mode) {
		return fmt.Errorf("%s does not entitle %s mode (entitled: %s); use --mode %s or request an extended license", l.Spec.LicenseID, mode, strings.Join(e.Modes, ", "), e.Modes[0])
	}
	if airgap && !e.Airgap {
		return fmt.Errorf("%s does not entitle air-gapped installs; install without --airgap-bundle or request an air-gap license", l.Spec.LicenseID)
	}
	return nil
}

// Inspection is a license file as license inspect reports it: its spec and whether a build
// trusting the key trusted accepts it at Checked.
type Inspection struct {
	File     string    `json:"file"`
	Spec     *Spec     `json:"spec,omitempty"`
	KeyID    string    `json:"keyID,omitempty"`
	Valid    bool      `json:"valid"`
	Problem  string    `json:"problem,omitempty"`
	Trusted  string    `json:"trustedKey"`
	Checked  time.Time `json:"checkedAt"`
	Expiring string    `json:"expiresIn,omitempty"`
}

// Inspect reads the license file at path through r and verifies it with trusted at now. A license
// that does not verify is an Inspection with its problem; only a file that is not a license is an
// error.
func Inspect(r host.Reader, path string, trusted ed25519.PublicKey, now time.Time) (Inspection, error) {
	l, err := ReadFile(r, path)
	if err != nil {
		return Inspection{}, err
	}
	in := Inspection{File: path, Spec: &l.Spec, Trusted: releasekey.ID(trusted), Checked: now.UTC(), Valid: true}
	if l.Signature != nil {
		in.KeyID = l.Signature.KeyID
	}
	if err := l.Verify(trusted, now); err != nil {
		in.Valid, in.Problem = false, err.Error()
	} else {
		in.Expiring = l.Spec.ExpiresAt.Sub(now).Round(time.Hour).String()
	}
	return in, nil
}
