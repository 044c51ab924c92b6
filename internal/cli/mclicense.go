package cli

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

	"github.com/datastax/mission-control/installer/license"
	"github.com/datastax/mission-control/internal/host"
	"github.com/datastax/mission-control/internal/releasekey"
)

// MCLicenseMain runs mclicense with the process's arguments and exits with its status.
func MCLicenseMain() {
	os.Exit(RunMCLicense(context.Background(), Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}, os.Args[1:], time.Now))
}

// RunMCLicense runs mclicense, the vendor-side license tool, and returns the exit status.
func RunMCLicense(ctx context.Context, streams Streams, args []string, now func() time.Time) int {
	root := &cobra.Command{
		Use:   "mclicense",
		Short: "Make signing keys and sign mission-control licenses (vendor side)",
		Long: `mclicense is the vendor's tool: it makes ed25519 signing keys, signs licenses and verifies them
against a public key. mission-control only verifies, with the public key compiled into it.`,
		Example: `  mclicense keygen --private-key release.key --public-key release.pub
  mclicense sign --private-key release.key --license-id L-0042 --customer "Acme Corp" \
    --expires 2027-12-31 --modes control-plane,data-plane --max-nodes 12 --airgap -o acme.yaml
  mclicense verify --public-key release.pub acme.yaml`,
	}
	root.AddCommand(newKeygenCmd(streams), newSignCmd(streams, now), newVerifyCmd(streams, now))
	return execute(ctx, root, streams, args)
}

// writeNew writes a file that must not exist yet, unless force.
func writeNew(ctx context.Context, path string, data []byte, perm fs.FileMode, force bool) error {
	h := host.System{}
	if exists, err := h.Exists(path); err != nil {
		return err
	} else if exists && !force {
		return fmt.Errorf("%s exists: choose another path, or pass --force to replace it", path)
	}
	return h.WriteFile(ctx, path, data, perm)
}

func newKeygenCmd(streams Streams) *cobra.Command {
	var privPath, pubPath string
	var force bool
	c := &cobra.Command{
		Use:     "keygen",
		Short:   "Make a new ed25519 license signing key pair",
		Example: "  mclicense keygen --private-key release.key --public-key release.pub",
		Args:    cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if privPath == "" || pubPath == "" {
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
			if err := writeNew(c.Context(), privPath, privPEM, 0o600, force); err != nil {
				return err
			}
			if err := writeNew(c.Context(), pubPath, pubPEM, 0o644, force); err != nil {
				return err
			}
			body := strings.Split(string(pubPEM), "\n")[1]
			_, err = fmt.Fprintf(streams.Out, "key %s: private key in %s (keep it secret), public key in %s\nbuild mission-control to trust it with: make LICENSE_PUBLIC_KEY=%s\n",
				releasekey.ID(pub), privPath, pubPath, body)
			return err
		},
	}
	c.Flags().StringVar(&privPath, "private-key", "", "file to create for the private key, mode 0600 (e.g. --private-key release.key)")
	c.Flags().StringVar(&pubPath, "public-key", "", "file to create for the public key (e.g. --public-key release.pub)")
	c.Flags().BoolVar(&force, "force", false, "replace existing files")
	return c
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

func newSignCmd(streams Streams, now func() time.Time) *cobra.Command {
	var keyPath, outPath, issued, expires string
	var spec license.Spec
	var force bool
	c := &cobra.Command{
		Use:   "sign",
		Short: "Sign a license",
		Example: `  mclicense sign --private-key release.key --license-id L-0042 --customer "Acme Corp" \
    --expires 2027-12-31 --modes control-plane,data-plane --max-nodes 12 -o acme.yaml`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			key, err := readPrivateKey(keyPath)
			if err != nil {
				return err
			}
			spec.IssuedAt = now().UTC().Truncate(time.Second)
			if issued != "" {
				if spec.IssuedAt, err = parseTime("issued", issued); err != nil {
					return err
				}
			}
			if expires == "" {
				return errors.New("--expires is required: when the license stops working, e.g. --expires 2028-01-01")
			}
			if spec.ExpiresAt, err = parseTime("expires", expires); err != nil {
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
			if outPath == "" {
				_, err = streams.Out.Write(data)
				return err
			}
			return writeNew(c.Context(), outPath, data, 0o644, force)
		},
	}
	fs := c.Flags()
	fs.StringVar(&keyPath, "private-key", "", "signing key (e.g. --private-key release.key)")
	fs.StringVar(&spec.LicenseID, "license-id", "", "unique license ID (e.g. --license-id L-0042)")
	fs.StringVar(&spec.Customer, "customer", "", "customer name (e.g. --customer \"Acme Corp\")")
	fs.StringVar(&issued, "issued", "", "issue time, default now (e.g. --issued 2027-01-01)")
	fs.StringVar(&expires, "expires", "", "when the license stops working: a date (00:00 UTC) or RFC 3339 time (e.g. --expires 2028-01-01)")
	fs.StringSliceVar(&spec.Entitlements.Modes, "modes", []string{license.ModeControlPlane, license.ModeDataPlane}, "entitled modes (e.g. --modes data-plane)")
	fs.IntVar(&spec.Entitlements.MaxNodes, "max-nodes", 1, "most nodes the license covers (e.g. --max-nodes 12)")
	fs.BoolVar(&spec.Entitlements.Airgap, "airgap", false, "entitle air-gapped installs")
	fs.StringVarP(&outPath, "output", "o", "", "write the license to this file instead of stdout (e.g. -o acme.yaml)")
	fs.BoolVar(&force, "force", false, "replace an existing output file")
	return c
}

func newVerifyCmd(streams Streams, now func() time.Time) *cobra.Command {
	var pubPath string
	c := &cobra.Command{
		Use:     "verify LICENSE",
		Short:   "Verify a license against a public key",
		Example: "  mclicense verify --public-key release.pub acme.yaml",
		Args:    exactArgs("LICENSE", "the license file to verify, e.g. acme.yaml"),
		RunE: func(_ *cobra.Command, args []string) error {
			if pubPath == "" {
				return errors.New("--public-key is required: the public key made by mclicense keygen, e.g. --public-key release.pub")
			}
			pemData, err := os.ReadFile(pubPath)
			if err != nil {
				return fmt.Errorf("read public key: %w", err)
			}
			pub, err := releasekey.ParsePublic(pemData)
			if err != nil {
				return fmt.Errorf("public key %s: %w", pubPath, err)
			}
			data, err := os.ReadFile(args[0])
			if err != nil {
				return fmt.Errorf("read license: %w", err)
			}
			l, err := license.Parse(data)
			if err == nil {
				err = l.Verify(pub, now())
			}
			if err != nil {
				return fmt.Errorf("license %s: %w", args[0], err)
			}
			_, err = fmt.Fprintf(streams.Out, "license %s (%s) is valid until %s, signed by key %s\n", l.Spec.LicenseID, l.Spec.Customer, l.Spec.ExpiresAt.UTC().Format(time.RFC3339), releasekey.ID(pub))
			return err
		},
	}
	c.Flags().StringVar(&pubPath, "public-key", "", "public key to verify with (e.g. --public-key release.pub)")
	return c
}
