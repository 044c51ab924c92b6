// Package supportbundle collects a support bundle of this host and its cluster with the
// troubleshoot library: an embedded SupportBundle spec (host files, runtime logs, network state,
// cluster resources and pod logs), troubleshoot's default redactors plus ours, and analyzers
// whose verdicts are summarised. The archive has troubleshoot's standard layout, so its tooling
// (support-bundle analyze, sbctl) opens it. Only the mission-control binary links this package.
package supportbundle

import (
	"archive/tar"
	"compress/gzip"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"text/template"
	"time"

	"github.com/go-logr/logr"
	"github.com/replicatedhq/troubleshoot/pkg/apis/troubleshoot/v1beta2"
	"github.com/replicatedhq/troubleshoot/pkg/redact"
	tssupportbundle "github.com/replicatedhq/troubleshoot/pkg/supportbundle"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"

	"github.com/datastax/mission-control/charts"
	"github.com/datastax/mission-control/internal/check"
	"github.com/datastax/mission-control/internal/contract"
	"github.com/datastax/mission-control/internal/datadir"
	"github.com/datastax/mission-control/internal/host"
	"github.com/datastax/mission-control/internal/kube"
	"github.com/datastax/mission-control/internal/tsspec"
	"github.com/datastax/mission-control/runtime/k0s"
	"github.com/datastax/mission-control/supportbundle/mask"
)

//go:embed support-bundle.yaml
var specTemplate string

var specTmpl = template.Must(template.New("support-bundle.yaml").Delims("[[", "]]").Parse(specTemplate))

// Options say what to collect and where the archive goes.
type Options struct {
	DataDir string
	// Out is the archive's path, written through Host; its directory must exist. Empty: a name
	// of its own (mission-control-support-bundle-HOST-TIME.tar.gz) in the working directory.
	Out  string
	Host host.Host
	// Progress reports each collector as it runs.
	Progress func(string)
	// APITimeout bounds each request to the Kubernetes API.
	APITimeout time.Duration
	// Now dates the default archive name.
	Now func() time.Time
}

// Result is a collected bundle.
type Result struct {
	// Archive is where the bundle was written, and Size its size in bytes.
	Archive string
	Size    int64
	// Analysis is the analyzers' verdicts.
	Analysis []check.Result
	// ClusterError is why the cluster part could not be collected, if it could not; the bundle
	// then holds the host part and this error (cluster-collection-error.txt).
	ClusterError error
}

// defaultOut names an archive after this host and the time.
func defaultOut(now time.Time) string {
	hostname, _ := os.Hostname()
	return fmt.Sprintf("mission-control-support-bundle-%s-%s.tar.gz", hostname, now.UTC().Format("20060102T150405Z"))
}

// Spec renders the support bundle spec and redactors for a data dir.
func Spec(ctx context.Context, dataDir string, systemd bool) (*v1beta2.SupportBundle, *v1beta2.Redactor, error) {
	var b strings.Builder
	data := struct {
		DataDir, Namespace, Unit, ContainerdDir string
		Layout                                  datadir.Layout
		Systemd                                 bool
		Operators                               []string
	}{dataDir, charts.Namespace, k0s.UnitName, filepath.Dir(k0s.ContainerdDropInFile),
		datadir.Layout{DataDir: dataDir}, systemd, contract.Deployments(true)}
	if err := specTmpl.Execute(&b, data); err != nil {
		return nil, nil, fmt.Errorf("render the support bundle spec: %w", err)
	}
	kinds, err := tsspec.Load(ctx, b.String())
	if err != nil {
		return nil, nil, fmt.Errorf("load the support bundle spec: %w", err)
	}
	if len(kinds.SupportBundlesV1Beta2) != 1 || len(kinds.RedactorsV1Beta2) != 1 {
		return nil, nil, fmt.Errorf("the support bundle spec holds %d SupportBundles and %d Redactors, want 1 each", len(kinds.SupportBundlesV1Beta2), len(kinds.RedactorsV1Beta2))
	}
	return &kinds.SupportBundlesV1Beta2[0], &kinds.RedactorsV1Beta2[0], nil
}

// apiReady checks, within 10 s, that the API answers /readyz.
func apiReady(ctx context.Context, cfg *rest.Config) error {
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := k0s.Readyz(ctx, client); err != nil {
		return fmt.Errorf("the cluster's API is not ready, its resources were not collected: %w", err)
	}
	return nil
}

// clusterErrorFile records, inside the bundle, why the cluster could not be collected.
const clusterErrorFile = "cluster-collection-error.txt"

// Collect writes a support bundle to opts.Out. A collector that fails is recorded in the
// bundle (troubleshoot's */errors.json); an unreachable API is recorded too and leaves the host
// part. Only an archive that cannot be written is an error.
func Collect(ctx context.Context, opts Options) (Result, error) {
	if opts.Out == "" {
		opts.Out = defaultOut(opts.Now())
	}
	if _, err := opts.Host.ReadDir(opts.Out); err == nil {
		return Result{}, fmt.Errorf("--out %s is a directory: pass a file name, e.g. %s/support-bundle.tar.gz", opts.Out, strings.TrimSuffix(opts.Out, "/"))
	}
	spec, redactor, err := Spec(ctx, opts.DataDir, host.HasSystemd(opts.Host))
	if err != nil {
		return Result{}, err
	}
	cfg, cfgErr := kube.RESTConfigFile(datadir.Layout{DataDir: opts.DataDir}.Kubeconfig(), opts.APITimeout)
	if cfgErr == nil {
		// An API that takes connections and answers none (its etcd gone) would hold every
		// collector for its whole timeout: ask once, briefly, first.
		cfgErr = apiReady(ctx, cfg)
	}
	if cfgErr != nil {
		// troubleshoot needs a config even for hosts only; this one fails every request at once.
		cfg = &rest.Config{Host: "https://127.0.0.1:1", Timeout: time.Second}
	}
	// troubleshoot writes the archive itself, before our own redaction, with a mode of its
	// choosing: in a directory of this process's own only root can enter. It is then copied to
	// Out through the host.
	tmp, err := opts.Host.MkdirTemp(ctx, "", "mission-control-support-bundle-")
	if err != nil {
		return Result{}, fmt.Errorf("make a directory for troubleshoot's archive: %w", err)
	}
	defer opts.Host.RemoveAll(context.WithoutCancel(ctx), tmp)
	klog.SetLogger(logr.Discard()) // troubleshoot logs to stderr; its failures are in the bundle
	redact.ResetRedactionList()    // process-wide: a previous bundle's redactions are not this one's
	progress, wait := tsspec.Drain(opts.Progress)
	resp, err := tssupportbundle.CollectSupportBundleFromSpec(&spec.Spec, redactor, tssupportbundle.SupportBundleCreateOpts{
		KubernetesRestConfig:      cfg,
		ProgressChan:              progress,
		CollectorProgressCallback: func(ch chan any, msg string) { ch <- msg },
		Redact:                    true,
		OutputPath:                filepath.Join(tmp, "bundle.tar.gz"),
		CollectWithoutPermissions: true,
	})
	close(progress)
	collectErrs := wait()
	if resp == nil || resp.ArchivePath == "" {
		if err == nil {
			err = errors.New("troubleshoot wrote no archive")
		}
		return Result{}, fmt.Errorf("collect the support bundle: %w", err)
	}
	// Only root could enter its directory; the archive itself is root's alone too, as Out is.
	if err := opts.Host.Chmod(ctx, resp.ArchivePath, 0o600); err != nil {
		return Result{}, err
	}
	res := Result{Archive: opts.Out}
	switch {
	case cfgErr != nil:
		res.ClusterError = cfgErr
	case err != nil:
		res.ClusterError = err
	}
	extra := map[string][]byte{}
	if res.ClusterError == nil {
		if client, err := kubernetes.NewForConfig(cfg); err != nil {
			res.ClusterError = err
		} else if extra[volumesFile], err = volumeTable(ctx, client); err != nil {
			res.ClusterError = err
		}
	}
	if res.ClusterError != nil {
		extra[clusterErrorFile] = []byte(errors.Join(append([]error{res.ClusterError}, collectErrs...)...).Error() + "\n")
	}
	if err := opts.Host.WriteStream(ctx, opts.Out, 0o600, func(w io.Writer) error {
		return repack(w, opts.Host, resp.ArchivePath, archiveTop(opts.Out), extra)
	}); err != nil {
		return Result{}, fmt.Errorf("write the support bundle to %s: %w", opts.Out, err)
	}
	if res.Size, err = size(opts.Host, opts.Out); err != nil {
		return Result{}, err
	}
	for _, r := range resp.AnalyzerResults {
		res.Analysis = append(res.Analysis, tsspec.Result(r))
	}
	return res, nil
}

// size is the size of the file at path.
func size(r host.Reader, path string) (int64, error) {
	info, err := host.Stat(r, path)
	if err != nil {
		return 0, err
	}
	return info.Size(), nil
}

// repack copies the gzipped tar at src to w with its top directory renamed top (troubleshoot
// names it after its temporary archive), every text file redacted again (mask.Text), adding
// extra files under it.
func repack(w io.Writer, r host.Reader, src, top string, extra map[string][]byte) error {
	f, err := r.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return fmt.Errorf("read %s: %w", src, err)
	}
	zw := gzip.NewWriter(w)
	tw := tar.NewWriter(zw)
	tr := tar.NewReader(zr)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", src, err)
		}
		_, rest, _ := strings.Cut(hdr.Name, "/")
		hdr.Name = path.Join(top, rest)
		if hdr.Typeflag == tar.TypeDir {
			hdr.Name += "/"
		}
		if hdr.Typeflag != tar.TypeReg {
			if err := tw.WriteHeader(hdr); err != nil {
				return err
			}
			continue
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			return fmt.Errorf("read %s in %s: %w", hdr.Name, src, err)
		}
		if mask.IsText(data) {
			data = mask.Text(data)
		}
		hdr.Size = int64(len(data))
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if _, err := tw.Write(data); err != nil {
			return err
		}
	}
	for _, name := range slices.Sorted(maps.Keys(extra)) {
		data := extra[name]
		hdr := &tar.Header{Name: path.Join(top, name), Mode: 0o644, Size: int64(len(data)), ModTime: time.Now(), Typeflag: tar.TypeReg}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if _, err := tw.Write(data); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return zw.Close()
}

// archiveTop is the top directory of the archive at output: its name without the extension, as
// tar archives are laid out (case-1234.tar.gz unpacks into case-1234/).
func archiveTop(output string) string {
	base := filepath.Base(output)
	for _, ext := range []string{".tar.gz", ".tgz", ".gz", ".tar"} {
		if strings.HasSuffix(base, ext) {
			if trimmed := strings.TrimSuffix(base, ext); trimmed != "" {
				return trimmed
			}
			break
		}
	}
	return base
}
