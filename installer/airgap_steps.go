package installer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"github.com/datastax/mission-control/bundle"
	"github.com/datastax/mission-control/internal/datadir"
	"github.com/datastax/mission-control/internal/filelist"
	"github.com/datastax/mission-control/internal/host"
	"github.com/datastax/mission-control/internal/progress"
	"github.com/datastax/mission-control/internal/releasekey"
)

// bundleImagePrefix marks the image tarballs staged from a bundle in the runtime's import
// directory, apart from the payload's own.
const bundleImagePrefix = "bundle-"

// stagedBundleFile is where a bundle's image tarball goes: the runtime imports every tarball of
// its images directory when it starts.
func stagedBundleFile(l datadir.Layout, f filelist.File) string {
	return filepath.Join(l.ImagesDir(), bundleImagePrefix+path.Base(f.Path))
}

// bundleError says what is wrong with the --airgap-bundle file p.
func bundleError(p, version string, err error) error {
	var open *fs.PathError
	switch {
	case errors.As(err, &open) && filepath.Clean(open.Path) == filepath.Clean(p) && errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("--airgap-bundle %s does not exist: pass the path of mission-control-%s.airgap, the bundle of this version", p, version)
	case errors.Is(err, bundle.ErrIsDirectory):
		return fmt.Errorf("--airgap-bundle %s is a directory: pass the bundle file, mission-control-%s.airgap", p, version)
	}
	return fmt.Errorf("--airgap-bundle %s: %w", p, err)
}

// BundleImageBytes is the uncompressed size of the images in the bundle at p, from its signed
// manifest: host preflights require room for them. The bundle's files are checked later.
func BundleImageBytes(ctx context.Context, r host.Reader, p, version string) (uint64, error) {
	f, _, err := bundle.OpenFile(r, p)
	if err != nil {
		return 0, bundleError(p, version, err)
	}
	defer f.Close()
	m, err := bundle.ReadManifest(ctx, f, releasekey.TrustedBundles())
	if err != nil {
		return 0, bundleError(p, version, err)
	}
	return uint64(m.Size()), nil
}

// readBundle streams the --airgap-bundle through bundle.Verify, showing bytes read and ETA.
func readBundle(ctx context.Context, sc *StepContext, h bundle.Handlers) (bundle.Manifest, error) {
	bar := &progress.Bytes{R: stepUpdates{sc}}
	m, err := bundle.VerifyFile(ctx, sc.Host, sc.Config.AirgapBundle, releasekey.TrustedBundles(), h, bar.Update)
	if err != nil {
		return bundle.Manifest{}, bundleError(sc.Config.AirgapBundle, sc.Version, err)
	}
	return m, nil
}

// stepUpdates shows a progress.Bytes through the running step.
type stepUpdates struct{ sc *StepContext }

func (u stepUpdates) Start(string)         {}
func (u stepUpdates) Update(detail string) { u.sc.Update("%s", detail) }
func (u stepUpdates) End(bool, string)     {}

func verifyAirgapBundle() Step {
	return Step{
		Name:  "verify-airgap-bundle",
		Title: "Verify the air-gap bundle",
		Check: true,
		Run: func(ctx context.Context, sc *StepContext) error {
			fits := func(m bundle.Manifest) error {
				if m.Version != sc.Version {
					return fmt.Errorf("it is the bundle of mission-control %s, and this is %s: use mission-control-%s.airgap, built with this binary", m.Version, sc.Version, sc.Version)
				}
				if m.Arch != runtime.GOARCH {
					return fmt.Errorf("it is the bundle for %s hosts, and this is an %s binary: use the %s bundle", m.Arch, runtime.GOARCH, runtime.GOARCH)
				}
				if sc.JoinFacts != nil && m.ID() != sc.JoinFacts.Bundle {
					return fmt.Errorf("it is the bundle %s, and the cluster was installed from %s: join with the cluster's bundle", m.ID(), sc.JoinFacts.Bundle)
				}
				return nil // room for its images is a host preflight
			}
			m, err := readBundle(ctx, sc, bundle.Handlers{Manifest: fits})
			if err != nil {
				return err
			}
			sc.Bundle = &m
			sc.Detail("mission-control %s, %d images, %s; signature and every checksum verified", m.Version, len(m.Images), progress.Size(m.Size()))
			return nil
		},
	}
}

// stageAirgapImages copies the bundle's images into the runtime's import directory, checking each
// again as it streams: the bundle may have changed since it was verified. A file is only put in
// place once its checksum matches.
func stageAirgapImages() Step {
	return Step{
		Name:  "stage-airgap-images",
		Title: "Stage the air-gap bundle's images",
		Run: func(ctx context.Context, sc *StepContext) error {
			l := sc.Paths
			sameBundle := func(m bundle.Manifest) error {
				if sc.Bundle == nil || m.Version != sc.Bundle.Version || !m.Created.Equal(sc.Bundle.Created) || !slices.Equal(m.Files, sc.Bundle.Files) {
					return errors.New("it changed since it was verified: install again")
				}
				return nil
			}
			stage := func(f filelist.File, contents io.Reader) error {
				dest := stagedBundleFile(l, f)
				return sc.Host.WriteStream(ctx, dest, 0o644, func(w io.Writer) error {
					sum := filelist.NewHash()
					n, err := io.Copy(io.MultiWriter(w, sum), contents)
					if err != nil {
						return err
					}
					if err := f.Check(n, sum); err != nil {
						return fmt.Errorf("bundle entry %s changed since it was verified (%w): install again", f.Path, err)
					}
					return nil
				})
			}
			m, err := readBundle(ctx, sc, bundle.Handlers{Manifest: sameBundle, File: stage})
			if err != nil {
				return err
			}
			sc.Detail("%d images, %s, into %s", len(m.Images), progress.Size(m.Size()), l.ImagesDir())
			return nil
		},
		Done: func(_ context.Context, sc *StepContext) (bool, error) {
			if sc.Bundle == nil {
				return false, nil
			}
			for _, f := range sc.Bundle.Files {
				if ok, err := sameContent(sc, stagedBundleFile(sc.Paths, f), f.SHA256); !ok || err != nil {
					return false, err
				}
			}
			return true, nil
		},
		Undo: func(ctx context.Context, sc *StepContext) error {
			return removeEntries(ctx, sc.Host, sc.Paths.ImagesDir(), func(name string) bool {
				return strings.HasPrefix(name, bundleImagePrefix)
			})
		},
	}
}
