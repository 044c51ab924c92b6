package cli

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/datastax/mission-control/bundle"
	"github.com/datastax/mission-control/internal/host"
	"github.com/datastax/mission-control/internal/progress"
	"github.com/datastax/mission-control/internal/releasekey"
	"github.com/datastax/mission-control/internal/version"
)

// signingKeyEnv holds the release signing key (PEM) when --signing-key is not given, for build
// systems that pass secrets in the environment.
const signingKeyEnv = "MC_BUNDLE_SIGNING_KEY"

func newBundleCmd(streams Streams, g *globalFlags) *cobra.Command {
	c := &cobra.Command{
		Use:   "bundle",
		Short: "Build, verify and inspect air-gap bundles",
		Long: `An air-gap bundle carries what an install needs that this binary does not embed (the database
images), signed with the release key this binary trusts (the key that signs licenses). See
bundle/README.md for the format.`,
	}
	c.AddCommand(newBundleBuildCmd(streams, g), newBundleVerifyCmd(streams, g, false), newBundleVerifyCmd(streams, g, true))
	return c
}

func newBundleBuildCmd(streams Streams, g *globalFlags) *cobra.Command {
	var imagesDir, output, keyFile, created, bundleVersion, pullList string
	var pull []string
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
    --signing-key release.key --output mission-control-` + version.Version + `.airgap
  SOURCE_DATE_EPOCH=1795000000 mission-control bundle build --images-dir images/ --signing-key release.key -o b.airgap`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if imagesDir == "" || output == "" {
				return fmt.Errorf("--images-dir and --output are required, e.g. --images-dir images/ --output mission-control-%s.airgap", version.Version)
			}
			key, err := signingKey(keyFile)
			if err != nil {
				return err
			}
			when, err := createdTime(created)
			if err != nil {
				return err
			}
			refs, err := imageList(pull, pullList)
			if err != nil {
				return err
			}
			rep := g.progress(streams.Err, outputText)
			if err := pullImages(c.Context(), rep, refs, imagesDir); err != nil {
				return err
			}
			rep.Start("Build the bundle " + output)
			bar := &progress.Bytes{R: rep}
			var m bundle.Manifest
			err = host.System{}.WriteStream(c.Context(), output, 0o644, func(w io.Writer) error {
				var err error
				m, err = bundle.Build(c.Context(), w, bundle.BuildOptions{ImagesDir: imagesDir, Version: bundleVersion,
					Arch: runtime.GOARCH, Created: when, Key: key, Progress: bar.Update})
				return err
			})
			rep.End(err == nil, "")
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(streams.Out, "Built %s: mission-control %s, %d images, %.1f MB uncompressed.\n", output, m.Version, len(m.Images), float64(m.Size())/(1<<20))
			return err
		},
	}
	f := c.Flags()
	f.StringVar(&imagesDir, "images-dir", "", "directory of OCI image tarballs (*.tar) to bundle; pulled images are written there (e.g. --images-dir images/)")
	f.StringArrayVar(&pull, "pull", nil, "pull this image into --images-dir first, NAME:TAG or NAME:TAG@sha256:DIGEST; repeatable (e.g. --pull docker.io/k8ssandra/medusa:0.24.0)")
	f.StringVar(&pullList, "pull-list", "", "pull every image this file lists (one per line, # comments) into --images-dir first (e.g. --pull-list bundle/images.txt)")
	f.StringVarP(&output, "output", "o", "", "bundle file to write (e.g. mission-control-"+version.Version+".airgap)")
	f.StringVar(&keyFile, "signing-key", "", "release private key file (PEM, from mclicense keygen); default $"+signingKeyEnv+" (e.g. --signing-key release.key)")
	f.StringVar(&created, "created", "", "creation time recorded in the bundle, RFC 3339; default $SOURCE_DATE_EPOCH, else now (e.g. --created 2026-11-22T12:00:00Z)")
	f.StringVar(&bundleVersion, "version", version.Version, "the mission-control version the bundle is for (e.g. --version v1.2.3)")
	return c
}

// imageList is the images to pull: --pull's, then --pull-list's, each checked.
func imageList(pull []string, listFile string) ([]string, error) {
	refs := slices.Clone(pull)
	if listFile != "" {
		data, err := os.ReadFile(listFile)
		if err != nil {
			return nil, fmt.Errorf("--pull-list: %w", err)
		}
		for i, line := range strings.Split(string(data), "\n") {
			line, _, _ = strings.Cut(line, "#")
			if line = strings.TrimSpace(line); line == "" {
				continue
			}
			if _, _, err := bundle.ParseImageRef(line); err != nil {
				return nil, fmt.Errorf("--pull-list %s line %d: %w", listFile, i+1, err)
			}
			refs = append(refs, line)
		}
	}
	for _, r := range pull {
		if _, _, err := bundle.ParseImageRef(r); err != nil {
			return nil, fmt.Errorf("--pull: %w", err)
		}
	}
	return refs, nil
}

// pullImages writes each image into dir as NAME_TAG.tar, a file per image, atomically: an
// interrupted pull leaves no partial tarball to be bundled.
func pullImages(ctx context.Context, rep progress.Reporter, refs []string, dir string) error {
	if len(refs) == 0 {
		return nil
	}
	if err := (host.System{}).MkdirAll(ctx, dir, 0o755); err != nil {
		return fmt.Errorf("--images-dir: %w", err)
	}
	for i, ref := range refs {
		known, _, _ := bundle.ParseImageRef(ref)
		file := filepath.Join(dir, strings.NewReplacer("/", "_", ":", "_", "@", "_").Replace(bundle.ImageName(known))+".tar")
		rep.Start(fmt.Sprintf("Pull %s (%d/%d)", ref, i+1, len(refs)))
		var im bundle.Image
		err := host.System{}.WriteStream(ctx, file, 0o644, func(w io.Writer) error {
			counted := &countingWriter{w: w, update: func(n int64) { rep.Update(fmt.Sprintf("%.1f MB", float64(n)/(1<<20))) }}
			var err error
			im, err = bundle.Pull(ctx, ref, runtime.GOARCH, counted)
			return err
		})
		rep.End(err == nil, im.Digest)
		if err != nil {
			return err
		}
	}
	return nil
}

// countingWriter reports how much has been written, at most every megabyte.
type countingWriter struct {
	w      io.Writer
	n      int64
	update func(n int64)
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	if (c.n+int64(n))>>20 != c.n>>20 {
		c.update(c.n + int64(n))
	}
	c.n += int64(n)
	return n, err
}

func signingKey(file string) (ed25519.PrivateKey, error) {
	data := []byte(os.Getenv(signingKeyEnv))
	if file != "" {
		var err error
		if data, err = os.ReadFile(file); err != nil {
			return nil, fmt.Errorf("--signing-key: %w", err)
		}
	}
	if len(data) == 0 {
		return nil, fmt.Errorf("no signing key: pass --signing-key FILE or set %s to the release private key (PEM)", signingKeyEnv)
	}
	key, err := releasekey.ParsePrivate(data)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	return key, nil
}

func createdTime(flag string) (time.Time, error) {
	if flag != "" {
		t, err := time.Parse(time.RFC3339, flag)
		if err != nil {
			return time.Time{}, fmt.Errorf("--created %q is not an RFC 3339 time, e.g. 2026-11-22T12:00:00Z", flag)
		}
		return t, nil
	}
	if epoch := os.Getenv("SOURCE_DATE_EPOCH"); epoch != "" {
		secs, err := strconv.ParseInt(epoch, 10, 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH %q is not a number of seconds", epoch)
		}
		return time.Unix(secs, 0), nil
	}
	return time.Now(), nil
}

// newBundleVerifyCmd is bundle verify, or bundle inspect (which verifies too, and shows the
// manifest): a bundle that does not verify has nothing trustworthy to show.
func newBundleVerifyCmd(streams Streams, g *globalFlags, inspect bool) *cobra.Command {
	var out output
	name, short := "verify", "Check a bundle's signature and every file's checksum, streaming"
	if inspect {
		name, short = "inspect", "Verify a bundle and show its manifest"
	}
	c := &cobra.Command{
		Use:     name + " FILE",
		Short:   short,
		Example: "  mission-control bundle " + name + " mission-control-" + version.Version + ".airgap",
		Args:    cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			f, err := os.Open(args[0])
			if err != nil {
				return fmt.Errorf("open the bundle: %w", err)
			}
			defer f.Close()
			st, err := f.Stat()
			if err != nil {
				return err
			}
			rep := g.progress(streams.Err, out)
			rep.Start("Verify " + args[0])
			bar := &progress.Bytes{R: rep}
			m, err := bundle.Verify(c.Context(), &progress.Reader{R: f, Total: st.Size(), Update: bar.Update}, releasekey.Trusted(), bundle.Handlers{})
			rep.End(err == nil, "")
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			if !inspect {
				_, err = fmt.Fprintf(streams.Out, "%s is a valid bundle for mission-control %s (%s): %d files, %.1f MB.\n", args[0], m.Version, m.Arch, len(m.Files), float64(m.Size())/(1<<20))
				return err
			}
			return out.print(streams.Out, m, func(w io.Writer) error {
				fmt.Fprintf(w, "bundle for mission-control %s (%s), format %d, created %s\n\n", m.Version, m.Arch, m.Format, m.Created.Format(time.RFC3339))
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "IMAGE\tDIGEST\tFILE")
				for _, im := range m.Images {
					fmt.Fprintf(tw, "%s\t%s\t%s\n", im.Name, im.Digest, im.File)
				}
				return tw.Flush()
			})
		},
	}
	if inspect {
		bindOutput(c, &out)
	}
	return c
}
