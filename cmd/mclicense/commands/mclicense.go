// Package mclicense is the mclicense command tree, the vendor side of licenses: it makes release
// signing keys, signs licenses and verifies them (packages releasekey and license do the work).
package commands

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/datastax/mission-control/internal/cli"
	"github.com/datastax/mission-control/internal/host"
	"github.com/datastax/mission-control/internal/license"
	"github.com/datastax/mission-control/internal/releasekey"
)

// Deps are what mclicense takes from its machine: files through Host, and Now, the clock licenses
// are issued and verified at.
type Deps struct {
	Host host.Host
	Now  func() time.Time
}

// Run runs mclicense with args and returns the exit status.
func Run(ctx context.Context, streams cli.Streams, args []string, deps Deps) int {
	return cli.Execute(ctx, newRootCmd(streams, deps), streams, args)
}

func newRootCmd(streams cli.Streams, deps Deps) *cobra.Command {
	root := &cobra.Command{
		Use:   "mclicense",
		Short: "Make signing keys and sign mission-control licenses (vendor side)",
		Long: `mclicense is the vendor's tool: it makes ed25519 signing keys, signs licenses and verifies them
against a public key. mission-control only verifies, with the public key compiled into it.`,
		Example: `  mclicense keygen --private-key release.key --public-key release.pub
  mclicense sign --private-key release.key --license-id L-0042 --customer "Acme Corp" \
    --expires 2027-12-31 --modes control-plane,data-plane --max-nodes 12 --airgap --out acme.yaml
  mclicense verify --public-key release.pub acme.yaml`,
	}
	root.AddCommand(newKeygenCmd(streams, deps), newSignCmd(streams, deps), newVerifyCmd(streams, deps))
	return root
}

// writeNew writes a file that must not exist yet, unless force.
func writeNew(ctx context.Context, h host.Host, path string, data []byte, perm fs.FileMode, force bool) error {
	if exists, err := h.Exists(path); err != nil {
		return err
	} else if exists && !force {
		return fmt.Errorf("%s exists: choose another path, or pass --force to replace it", path)
	}
	return h.WriteFile(ctx, path, data, perm)
}

type keygenOptions struct {
	privatePath, publicPath string
	force                   bool
}

func newKeygenCmd(streams cli.Streams, deps Deps) *cobra.Command {
	o := &keygenOptions{}
	c := &cobra.Command{
		Use:     "keygen",
		Short:   "Make a new ed25519 release signing key pair (it signs licenses and air-gap bundles)",
		Example: "  mclicense keygen --private-key release.key --public-key release.pub",
		Args:    cobra.NoArgs,
		RunE:    func(c *cobra.Command, _ []string) error { return runKeygen(c.Context(), streams, deps, o) },
	}
	c.Flags().StringVar(&o.privatePath, "private-key", "", "file to create for the private key, mode 0600 (e.g. --private-key release.key)")
	c.Flags().StringVar(&o.publicPath, "public-key", "", "file to create for the public key (e.g. --public-key release.pub)")
	c.Flags().BoolVar(&o.force, "force", false, "replace existing files")
	return c
}

func runKeygen(ctx context.Context, streams cli.Streams, deps Deps, o *keygenOptions) error {
	if o.privatePath == "" || o.publicPath == "" {
		return errors.New("--private-key and --public-key are required: name the two files to create, e.g. --private-key release.key --public-key release.pub")
	}
	pub, priv, err := releasekey.Generate()
	if err != nil {
		return fmt.Errorf("generate key: %w", err)
	}
	privPEM, err := releasekey.MarshalPrivate(priv)
	if err != nil {
		return err
	}
	pubPEM, err := releasekey.MarshalPublic(pub)
	if err != nil {
		return err
	}
	if err := writeNew(ctx, deps.Host, o.privatePath, privPEM, 0o600, o.force); err != nil {
		return err
	}
	if err := writeNew(ctx, deps.Host, o.publicPath, pubPEM, 0o644, o.force); err != nil {
		return err
	}
	body := strings.Split(string(pubPEM), "\n")[1]
	_, err = fmt.Fprintf(streams.Out, "key %s: private key in %s (keep it secret), public key in %s\nbuild mission-control to trust it with: make LICENSE_PUBLIC_KEY=%s\n",
		releasekey.ID(pub), o.privatePath, o.publicPath, body)
	return err
}

func readPrivateKey(path string) (ed25519.PrivateKey, error) {
	if path == "" {
		return nil, errors.New("--private-key is required: the signing key made by mclicense keygen, e.g. --private-key release.key")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read private key: %w", err)
	}
	key, err := releasekey.ParsePrivate(data)
	if err != nil {
		return nil, fmt.Errorf("private key %s: %w", path, err)
	}
	return key, nil
}

// parseTime accepts a date (midnight UTC) or an RFC 3339 timestamp.
func parseTime(flag, s string) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("--%s %q is not a date: use YYYY-MM-DD or an RFC 3339 time such as 2027-12-31T00:00:00Z", flag, s)
	}
	return t, nil
}

type signOptions struct {
	spec                         license.Spec
	keyPath, out, issued, expire string
	force                        bool
}

func newSignCmd(streams cli.Streams, deps Deps) *cobra.Command {
	o := &signOptions{}
	c := &cobra.Command{
		Use:   "sign",
		Short: "Sign a license",
		Example: `  mclicense sign --private-key release.key --license-id L-0042 --customer "Acme Corp" \
    --expires 2027-12-31 --modes control-plane,data-plane --max-nodes 12 --out acme.yaml`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error { return runSign(c.Context(), streams, deps, o) },
	}
	fs := c.Flags()
	fs.StringVar(&o.keyPath, "private-key", "", "signing key (e.g. --private-key release.key)")
	fs.StringVar(&o.spec.LicenseID, "license-id", "", "unique license ID (e.g. --license-id L-0042)")
	fs.StringVar(&o.spec.Customer, "customer", "", "customer name (e.g. --customer \"Acme Corp\")")
	fs.StringVar(&o.issued, "issued", "", "issue time, default now (e.g. --issued 2027-01-01)")
	fs.StringVar(&o.expire, "expires", "", "when the license stops working: a date (00:00 UTC) or RFC 3339 time (e.g. --expires 2028-01-01)")
	fs.StringSliceVar(&o.spec.Entitlements.Modes, "modes", []string{license.ModeControlPlane, license.ModeDataPlane}, "entitled modes (e.g. --modes data-plane)")
	fs.IntVar(&o.spec.Entitlements.MaxNodes, "max-nodes", 1, "most nodes the license covers (e.g. --max-nodes 12)")
	fs.BoolVar(&o.spec.Entitlements.Airgap, "airgap", false, "entitle air-gapped installs")
	fs.StringVar(&o.out, "out", "", "write the license to this file instead of stdout (e.g. --out acme.yaml)")
	fs.BoolVar(&o.force, "force", false, "replace an existing --out file")
	return c
}

func runSign(ctx context.Context, streams cli.Streams, deps Deps, o *signOptions) error {
	key, err := readPrivateKey(o.keyPath)
	if err != nil {
		return err
	}
	spec := o.spec
	spec.IssuedAt = deps.Now().UTC().Truncate(time.Second)
	if o.issued != "" {
		if spec.IssuedAt, err = parseTime("issued", o.issued); err != nil {
			return err
		}
	}
	if o.expire == "" {
		return errors.New("--expires is required: when the license stops working, e.g. --expires 2028-01-01")
	}
	if spec.ExpiresAt, err = parseTime("expires", o.expire); err != nil {
		return err
	}
	l, err := license.Sign(spec, key)
	if err != nil {
		return err
	}
	data, err := l.Marshal()
	if err != nil {
		return err
	}
	if o.out == "" {
		_, err = streams.Out.Write(data)
		return err
	}
	return writeNew(ctx, deps.Host, o.out, data, 0o644, o.force)
}

func newVerifyCmd(streams cli.Streams, deps Deps) *cobra.Command {
	var publicPath string
	c := &cobra.Command{
		Use:     "verify LICENSE",
		Short:   "Verify a license against a public key",
		Example: "  mclicense verify --public-key release.pub acme.yaml",
		Args:    cli.ExactArgs("LICENSE", "the license file to verify, e.g. acme.yaml"),
		RunE:    func(_ *cobra.Command, args []string) error { return runVerify(streams, deps, publicPath, args[0]) },
	}
	c.Flags().StringVar(&publicPath, "public-key", "", "public key to verify with (e.g. --public-key release.pub)")
	return c
}

func runVerify(streams cli.Streams, deps Deps, publicPath, file string) error {
	if publicPath == "" {
		return errors.New("--public-key is required: the public key made by mclicense keygen, e.g. --public-key release.pub")
	}
	pemData, err := os.ReadFile(publicPath)
	if err != nil {
		return fmt.Errorf("read public key: %w", err)
	}
	pub, err := releasekey.ParsePublic(pemData)
	if err != nil {
		return fmt.Errorf("public key %s: %w", publicPath, err)
	}
	l, err := license.ReadFile(deps.Host, file)
	if err != nil {
		return err
	}
	if err := l.Verify(pub, deps.Now()); err != nil {
		return fmt.Errorf("license %s: %w", file, err)
	}
	_, err = fmt.Fprintf(streams.Out, "license %s (%s) is valid until %s, signed by key %s\n", l.Spec.LicenseID, l.Spec.Customer, l.Spec.ExpiresAt.UTC().Format(time.RFC3339), releasekey.ID(pub))
	return err
}
