// Package charts embeds mission-control's Helm charts and installs them with the Helm SDK: the CRDs
// by server-side apply, then one release of charts/mission-control (the operators of the mode)
// with charts/local-storage (the volume provisioner and StorageClasses) as its dependency.
package charts

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/yaml"

	"github.com/datastax/mission-control/internal/contract"
)

// Namespace is where the operators run and the release lives.
const Namespace = contract.Namespace

//go:embed all:mission-control all:local-storage
var files embed.FS

// Storage is the local-storage chart's part of the values.
type Storage struct {
	// Path is the directory on each node under which volumes are made (the data dir's storage/).
	Path string
	// DefaultClass names the default StorageClass; a class named standard is made beside it.
	DefaultClass string
}

// StandardClass is the StorageClass the product docs' manifests name: always made.
const StandardClass = "standard"

// Images are the operator images, imported into the runtime from the payload.
type Images struct {
	CassOperator           string
	K8ssandraOperator      string
	MissionControlOperator string
	MissionControlAPI      string
	LocalPathProvisioner   string
	VolumeHelper           string
}

// WebhookTLS is the webhooks' serving certificate and the CA bundle the API server checks it with,
// all PEM.
type WebhookTLS struct {
	CABundle, Cert, Key []byte
}

// APIServing is the Mission Control API's serving certificate and key, PEM, from the cluster's CA.
type APIServing struct {
	Cert, Key []byte
}

// APINodePort is where the Mission Control API and UI are reached on every node (https).
const APINodePort = 30443

// Values are what install decides for the chart.
type Values struct {
	Mode    string // control-plane or data-plane
	Images  Images
	Webhook WebhookTLS
	API     APIServing
	// LocalContext is the cluster's own context name (install --context-name).
	LocalContext string
	// Airgap: the database images were imported from an air-gap bundle and are never pulled.
	Airgap  bool
	Storage Storage
}

func (v Values) helm() map[string]any {
	values := map[string]any{
		"mode":         v.Mode,
		"localContext": v.LocalContext,
		"images": map[string]any{
			"cassOperator":           v.Images.CassOperator,
			"k8ssandraOperator":      v.Images.K8ssandraOperator,
			"missionControlOperator": v.Images.MissionControlOperator,
			"missionControlAPI":      v.Images.MissionControlAPI,
		},
		"api": map[string]any{"nodePort": APINodePort, "tlsCert": string(v.API.Cert), "tlsKey": string(v.API.Key)},
		"webhook": map[string]any{
			"caBundle": string(v.Webhook.CABundle),
			"tlsCert":  string(v.Webhook.Cert),
			"tlsKey":   string(v.Webhook.Key),
		},
	}
	storage := map[string]any{}
	for key, value := range map[string]string{"image": v.Images.LocalPathProvisioner, "helperImage": v.Images.VolumeHelper,
		"path": v.Storage.Path, "defaultClass": v.Storage.DefaultClass} {
		if value != "" { // else the chart's default
			storage[key] = value
		}
	}
	values["local-storage"] = storage
	if v.Airgap {
		values["databaseImages"] = map[string]any{"pullPolicy": "Never"} // merged into the chart's defaults
	}
	return values
}

// WebhookServices are the Services the webhooks are called through: the serving certificate
// names each of them.
var WebhookServices = []string{"cass-operator-webhook", "k8ssandra-operator-webhook", "mission-control-operator-webhook"}

// Load returns the embedded platform chart, with its appVersion set to the mission-control
// version and the local-storage chart as its dependency.
func Load(appVersion string) (*chart.Chart, error) {
	ch, err := loadEmbedded("mission-control")
	if err != nil {
		return nil, err
	}
	storage, err := loadEmbedded("local-storage")
	if err != nil {
		return nil, err
	}
	ch.AddDependency(storage)
	ch.Metadata.AppVersion = appVersion
	return ch, nil
}

// loadEmbedded loads the embedded chart in dir.
func loadEmbedded(dir string) (*chart.Chart, error) {
	var bf []*loader.BufferedFile
	err := fs.WalkDir(files, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		bf = append(bf, &loader.BufferedFile{Name: strings.TrimPrefix(p, dir+"/"), Data: data})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read the embedded chart %s: %w", dir, err)
	}
	ch, err := loader.LoadFiles(bf)
	if err != nil {
		return nil, fmt.Errorf("load the embedded chart %s: %w", dir, err)
	}
	return ch, nil
}

// CRDs returns the chart's CRDs, in file order.
func CRDs() ([]*unstructured.Unstructured, error) {
	entries, err := fs.ReadDir(files, "mission-control/crds")
	if err != nil {
		return nil, fmt.Errorf("read the embedded CRDs: %w", err)
	}
	var crds []*unstructured.Unstructured
	for _, e := range entries {
		data, err := files.ReadFile(path.Join("mission-control/crds", e.Name()))
		if err != nil {
			return nil, err
		}
		objs, err := decode(data)
		if err != nil {
			return nil, fmt.Errorf("crds/%s: %w", e.Name(), err)
		}
		crds = append(crds, objs...)
	}
	return crds, nil
}

// Render renders the chart as Helm would install it on Kubernetes kubeVersion, without a cluster:
// the release's objects.
func Render(ch *chart.Chart, release, kubeVersion string, v Values) ([]*unstructured.Unstructured, error) {
	install := action.NewInstall(&action.Configuration{})
	install.ClientOnly, install.DryRun, install.SkipCRDs = true, true, true
	install.ReleaseName, install.Namespace = release, Namespace
	kv, err := chartutil.ParseKubeVersion(kubeVersion)
	if err != nil {
		return nil, err
	}
	install.KubeVersion = kv
	rel, err := install.Run(ch, v.helm())
	if err != nil {
		return nil, fmt.Errorf("render the chart: %w", err)
	}
	return decode([]byte(rel.Manifest))
}

// decode splits a multi-document YAML stream into objects, skipping empty documents.
func decode(data []byte) ([]*unstructured.Unstructured, error) {
	dec := yaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var objs []*unstructured.Unstructured
	for {
		var obj map[string]any
		if err := dec.Decode(&obj); err != nil {
			if errors.Is(err, io.EOF) {
				return objs, nil
			}
			return nil, err
		}
		if len(obj) > 0 {
			objs = append(objs, &unstructured.Unstructured{Object: obj})
		}
	}
}

// Summary names objects as Kind/name, sorted.
func Summary(objs []*unstructured.Unstructured) []string {
	names := make([]string, len(objs))
	for i, o := range objs {
		names[i] = o.GetKind() + "/" + o.GetName()
	}
	slices.Sort(names)
	return names
}
