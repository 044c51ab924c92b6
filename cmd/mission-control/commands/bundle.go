package commands

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/datastax/mission-control/bundle"
	"github.com/datastax/mission-control/internal/cli"
	"github.com/datastax/mission-control/internal/progress"
	"github.com/datastax/mission-control/internal/releasekey"
	"github.com/datastax/mission-control/internal/version"
)

// signingKeyEnv holds the release signing key (PEM) when --signing-key is not given, for build
// systems that pass secrets in the environment.
const signingKeyEnv = "MC_BUNDLE_SIGNING_KEY"

func newBundleCmd(streams cli.Streams, deps Deps, g *cli.GlobalFlags) *cobra.Command {
	c := &cobra.Command{
		Use:   "bundle",
		Short: "Build, verify and inspect air-gap bundles",
		Long: `An air-gap bundle carries what an install needs that this binary does not embed (the database
images), signed with the release bundle key this binary trusts (not the license key: see internal/releasekey). See
bundle/README.md for the format.`,
	}
	c.AddCommand(newBundleBuildCmd(streams, deps, g), newBundlePinCmd(streams, deps), newBundleVerifyCmd(streams, deps, g), newBundleInspectCmd(streams, deps, g))
	return c
}

type bundleBuildOptions struct {
	imagesDir, out, keyFile, created, version, pullList string
	pull                                                []string
}

func newBundleBuildCmd(streams cli.Streams, deps Deps, g *cli.GlobalFlags) *cobra.Command {
	o := &bundleBuildOptions{version: version.Version}
	c := &cobra.Command{
		Use:   "build",
		Short: "Build a signed air-gap bundle from OCI image tarballs, pulled or local",
		Long: `build packs the OCI image tarballs of --images-dir into one signed bundle. Where registries are
reachable, --pull and --pull-list first fetch images into --images-dir by digest (a NAME:TAG is
resolved to its digest once; NAME:TAG@sha256:DIGEST is fetched by that digest only);
bundle/images.txt lists the database images a release bundles. The same inputs and --created
(default $SOURCE_DATE_EPOCH, else now) give the same bytes. The signing key is the release
private key, from --signing-key or $` + signingKeyEnv + `.`,
		Example: `  mission-control bundle build --pull-list bundle/images.txt --images-dir images/ \
    --signing-key release.key --out mission-control-` + version.Version + `.airgap
  SOURCE_DATE_EPOCH=1795000000 mission-control bundle build --images-dir images/ --signing-key release.key --out b.airgap`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error { return runBundleBuild(c.Context(), streams, deps, g, o) },
	}
	f := c.Flags()
	f.StringVar(&o.imagesDir, "images-dir", "", "directory of OCI image tarballs (*.tar) to bundle; pulled images are written there (e.g. --images-dir images/)")
	f.StringArrayVar(&o.pull, "pull", nil, "pull this image into --images-dir first, NAME:TAG or NAME:TAG@sha256:DIGEST; repeatable (e.g. --pull docker.io/k8ssandra/medusa:0.24.0)")
	f.StringVar(&o.pullList, "pull-list", "", "pull every image this file lists (one per line, # comments) into --images-dir first (e.g. --pull-list bundle/images.txt)")
	f.StringVar(&o.out, "out", "", "bundle file to write (e.g. --out mission-control-"+version.Version+".airgap)")
	f.StringVar(&o.keyFile, "signing-key", "", "release private key file (PEM, from mclicense keygen); default $"+signingKeyEnv+" (e.g. --signing-key release.key)")
	f.StringVar(&o.created, "created", "", "creation time recorded in the bundle, RFC 3339; default $SOURCE_DATE_EPOCH, else now (e.g. --created 2026-11-22T12:00:00Z)")
	f.StringVar(&o.version, "version", o.version, "the mission-control version the bundle is for (e.g. --version v1.2.3)")
	return c
}

func runBundleBuild(ctx context.Context, streams cli.Streams, deps Deps, g *cli.GlobalFlags, o *bundleBuildOptions) error {
	if o.imagesDir == "" || o.out == "" {
		return fmt.Errorf("--images-dir and --out are required, e.g. --images-dir images/ --out mission-control-%s.airgap", version.Version)
	}
	key, err := signingKey(o.keyFile)
	if err != nil {
		return err
	}
	created, err := bundle.Created(o.created, os.Getenv("SOURCE_DATE_EPOCH"), deps.Now())
	if err != nil {
		return err
	}
	pull := o.pull
	if o.pullList != "" {
		listed, err := bundle.ReadImageList(deps.Host, o.pullList)
		if err != nil {
			return fmt.Errorf("--pull-list %w", err)
		}
		// The list is what a release bundles: a tag alone could name other bytes tomorrow.
		for _, ref := range listed {
			if !strings.Contains(ref, "@sha256:") {
				return fmt.Errorf("--pull-list %s: %s is not pinned: a release bundles images by digest only; write it as NAME:TAG@sha256:DIGEST (the digest its registry gives for the tag)", o.pullList, ref)
			}
		}
		pull = append(pull, listed...)
	}
	m, err := bundle.Make(ctx, deps.Host, bundle.MakeOptions{Pull: pull, Out: o.out, Progress: g.Progress(streams.Err, cli.OutputText),
		BuildOptions: bundle.BuildOptions{ImagesDir: o.imagesDir, Version: o.version, Arch: runtime.GOARCH, Created: created, Key: key}})
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(streams.Out, "Built %s: mission-control %s, %d images, %s uncompressed.\n", o.out, m.Version, len(m.Images), progress.Size(m.Size()))
	return err
}

func newBundlePinCmd(streams cli.Streams, deps Deps) *cobra.Command {
	return &cobra.Command{
		Use:   "pin LIST",
		Short: "Pin every NAME:TAG of an image list to the digest its registry gives now",
		Long: `pin asks each image's registry (credentials from ~/.docker/config.json) for the digest its tag names
now and rewrites the list's line as NAME:TAG@sha256:DIGEST, comments kept. A release bundles pinned
images only (bundle build --pull-list refuses a tag alone): run it where the registries answer,
review the digests, and commit the list. Nothing is written when one image cannot be resolved.`,
		Example: "  mission-control bundle pin bundle/images.txt",
		Args:    cli.ExactArgs("LIST", "the image list to pin, e.g. bundle/images.txt"),
		RunE: func(c *cobra.Command, args []string) error {
			pinned, err := bundle.PinImageList(c.Context(), deps.Host, args[0], func(ctx context.Context, ref string) (string, error) {
				return bundle.Pin(ctx, ref)
			})
			if err != nil {
				return err
			}
			if len(pinned) == 0 {
				_, err = fmt.Fprintf(streams.Out, "Every image of %s is pinned already.\n", args[0])
				return err
			}
			_, err = fmt.Fprintf(streams.Out, "Pinned %d images in %s:\n  %s\n", len(pinned), args[0], strings.Join(pinned, "\n  "))
			return err
		},
	}
}

// signingKey reads the release private key from file, else from $MC_BUNDLE_SIGNING_KEY.
func signingKey(file string) (ed25519.PrivateKey, error) {
	data := []byte(os.Getenv(signingKeyEnv))
	if file != "" {
		var err error
		if data, err = os.ReadFile(file); err != nil {
			return nil, fmt.Errorf("--signing-key: %w", err)
		}
	}
	if len(data) == 0 {
		return nil, errors.New("no signing key: pass --signing-key FILE or set " + signingKeyEnv + " to the release private key (PEM)")
	}
	key, err := releasekey.ParsePrivate(data)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	return key, nil
}

// verifyBundle verifies the bundle file, showing the bytes read.
func verifyBundle(ctx context.Context, streams cli.Streams, deps Deps, g *cli.GlobalFlags, out cli.Output, file string) (bundle.Manifest, error) {
	rep := g.Progress(streams.Err, out)
	rep.Start("Verify " + file)
	bar := &progress.Bytes{R: rep}
	m, err := bundle.VerifyFile(ctx, deps.Host, file, releasekey.TrustedBundles(), bundle.Handlers{}, bar.Update)
	rep.End(err == nil, "")
	if err != nil {
		return bundle.Manifest{}, fmt.Errorf("%s: %w", file, err)
	}
	return m, nil
}

func newBundleVerifyCmd(streams cli.Streams, deps Deps, g *cli.GlobalFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "verify FILE",
		Short:   "Check a bundle's signature and every file's checksum, streaming",
		Example: "  mission-control bundle verify mission-control-" + version.Version + ".airgap",
		Args:    cli.ExactArgs("FILE", "the bundle to verify, e.g. mission-control-"+version.Version+".airgap"),
		RunE: func(c *cobra.Command, args []string) error {
			m, err := verifyBundle(c.Context(), streams, deps, g, cli.OutputText, args[0])
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(streams.Out, "%s is a valid bundle for mission-control %s (%s): %d files, %s.\n", args[0], m.Version, m.Arch, len(m.Files), progress.Size(m.Size()))
			return err
		},
	}
}

// newBundleInspectCmd verifies too: a bundle that does not verify has nothing trustworthy to show.
func newBundleInspectCmd(streams cli.Streams, deps Deps, g *cli.GlobalFlags) *cobra.Command {
	var out cli.Output
	c := &cobra.Command{
		Use:     "inspect FILE",
		Short:   "Verify a bundle and show its manifest",
		Example: "  mission-control bundle inspect mission-control-" + version.Version + ".airgap -o json",
		Args:    cli.ExactArgs("FILE", "the bundle to inspect, e.g. mission-control-"+version.Version+".airgap"),
		RunE: func(c *cobra.Command, args []string) error {
			m, err := verifyBundle(c.Context(), streams, deps, g, out, args[0])
			if err != nil {
				return err
			}
			return out.Print(streams.Out, m, func(w io.Writer) error { return writeManifest(w, m) })
		},
	}
	cli.BindOutput(c, &out)
	return c
}

func writeManifest(w io.Writer, m bundle.Manifest) error {
	fmt.Fprintf(w, "bundle for mission-control %s (%s), format %d, created %s\n\n", m.Version, m.Arch, m.Format, m.Created.Format(time.RFC3339))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "IMAGE\tDIGEST\tFILE")
	for _, im := range m.Images {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", im.Name, im.Digest, im.File)
	}
	return tw.Flush()
}
