package installer

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"path/filepath"
	"strings"
	"time"

	"github.com/datastax/mission-control/charts"
	"github.com/datastax/mission-control/internal/contract"
	"github.com/datastax/mission-control/internal/pki"
)

// Webhook certificate lifetimes: the CA outlives many serving certificates, and install renews
// a serving certificate that is missing a name or expires within renewBefore.
const (
	webhookCAValidity      = 10 * 365 * 24 * time.Hour
	webhookCertValidity    = 2 * 365 * 24 * time.Hour
	webhookCertRenewBefore = 90 * 24 * time.Hour
)

// platformSteps install the operators of the mode onto the running runtime (and, on a control
// plane, the API and UI with their certificate).
func platformSteps(cfg Config) []Step {
	steps := []Step{issueWebhookCertificates()}
	if cfg.Mode == ModeControlPlane {
		steps = append(steps, issueAPICertificate())
	}
	return append(steps, applyCRDs(), installRelease(), waitForOperators())
}

// The API's serving certificate, from the cluster's CA: an admin whose kubeconfig trusts the
// cluster's API trusts the UI with the same CA.
const (
	apiCertValidity    = 365 * 24 * time.Hour
	apiCertRenewBefore = 30 * 24 * time.Hour
)

// apiNames are the names the API and UI are reached by: the node's address (the node port), the
// in-cluster Service, and loopback on the node itself.
func apiNames(sc *StepContext) []string {
	svc := contract.MissionControlAPI + "." + charts.Namespace + ".svc"
	return []string{sc.Node.Address.String(), svc, svc + ".cluster.local", "localhost", "127.0.0.1"}
}

// APIURL is where a control plane's UI and API are opened from the admin's workstation.
func APIURL(node netip.Addr) string {
	return fmt.Sprintf("https://%s/", netip.AddrPortFrom(node, charts.APINodePort))
}

func issueAPICertificate() Step {
	return Step{
		Name:  "issue-api-certificate",
		Title: "Issue the Mission Control API's serving certificate from the cluster's CA",
		Run: func(ctx context.Context, sc *StepContext) error {
			caCert, caKey, err := sc.Cluster.ClusterCA(sc)
			if err != nil {
				return err
			}
			cert, key, err := pki.IssueServingFrom(caCert, caKey, apiNames(sc), apiCertValidity, sc.Now())
			if err != nil {
				return fmt.Errorf("the API's serving certificate: %w", err)
			}
			certFile, keyFile := sc.Paths.APIServing()
			if err := sc.Host.MkdirAll(ctx, filepath.Dir(certFile), 0o700); err != nil {
				return err
			}
			if err := sc.Host.WriteFile(ctx, keyFile, key, 0o600); err != nil {
				return err
			}
			sc.Detail("for %s, valid until %s", strings.Join(apiNames(sc), ", "), sc.Now().Add(apiCertValidity).UTC().Format(time.DateOnly))
			return sc.Host.WriteFile(ctx, certFile, cert, 0o644)
		},
		Done: func(_ context.Context, sc *StepContext) (bool, error) {
			certFile, _ := sc.Paths.APIServing()
			cert, err := sc.Host.ReadFile(certFile)
			if errors.Is(err, fs.ErrNotExist) {
				return false, nil
			}
			if err != nil {
				return false, err
			}
			caCert, _, err := sc.Cluster.ClusterCA(sc)
			if err != nil {
				return false, err
			}
			return pki.CheckServingFrom(caCert, cert, apiNames(sc), sc.Now(), apiCertRenewBefore) == nil, nil
		},
		Undo: func(ctx context.Context, sc *StepContext) error {
			certFile, _ := sc.Paths.APIServing()
			return sc.Host.RemoveAll(ctx, filepath.Dir(certFile))
		},
	}
}

// webhookDNSNames are the names the API server calls the webhooks by.
func webhookDNSNames() []string {
	var names []string
	for _, svc := range charts.WebhookServices {
		names = append(names, svc+"."+charts.Namespace+".svc", svc+"."+charts.Namespace+".svc.cluster.local")
	}
	return names
}

// webhookProblem says why the recorded serving certificate cannot serve, or "" when it can.
func webhookProblem(sc *StepContext) (string, error) {
	f := sc.Paths.Webhook()
	read := func(path string) ([]byte, error) {
		b, err := sc.Host.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return b, err
	}
	caCert, err := read(f.CACert)
	if err != nil {
		return "", err
	}
	caKey, err := read(f.CAKey)
	if err != nil {
		return "", err
	}
	cert, err := read(f.Cert)
	if err != nil {
		return "", err
	}
	if caCert == nil || caKey == nil || cert == nil {
		return "not issued", nil
	}
	ca, err := pki.ParseCA(caCert, caKey)
	if err != nil {
		return "the CA is unusable: " + err.Error(), nil
	}
	if err := ca.CheckServing(cert, webhookDNSNames(), sc.Now(), webhookCertRenewBefore); err != nil {
		return "the serving certificate " + err.Error(), nil
	}
	return "", nil
}

// issueWebhookCertificates gives the operators' webhooks a serving certificate from a private CA,
// instead of cert-manager: the CA bundle goes into the webhook configurations, the certificate
// into the operators. The CA is kept across runs; the certificate is reissued when it lacks a name
// or nears its end.
func issueWebhookCertificates() Step {
	return Step{
		Name:  "issue-webhook-certificates",
		Title: "Issue the webhooks' serving certificate",
		Run: func(ctx context.Context, sc *StepContext) error {
			f := sc.Paths.Webhook()
			if err := sc.Host.MkdirAll(ctx, filepath.Dir(f.Cert), 0o700); err != nil {
				return err
			}
			var ca pki.CA
			caCert, errCert := sc.Host.ReadFile(f.CACert)
			caKey, errKey := sc.Host.ReadFile(f.CAKey)
			if errCert == nil && errKey == nil {
				ca, errCert = pki.ParseCA(caCert, caKey)
			}
			if errCert != nil || errKey != nil || sc.Now().Add(webhookCertValidity).After(ca.Cert.NotAfter) {
				var err error
				if ca, err = pki.NewCA("mission-control webhook CA", webhookCAValidity, sc.Now()); err != nil {
					return err
				}
				if err := sc.Host.WriteFile(ctx, f.CAKey, ca.KeyPEM, 0o600); err != nil {
					return err
				}
				if err := sc.Host.WriteFile(ctx, f.CACert, ca.CertPEM, 0o644); err != nil {
					return err
				}
			}
			cert, key, err := ca.IssueServing(webhookDNSNames(), webhookCertValidity, sc.Now())
			if err != nil {
				return err
			}
			if err := sc.Host.WriteFile(ctx, f.Key, key, 0o600); err != nil {
				return err
			}
			sc.Detail("for %s, valid until %s", strings.Join(charts.WebhookServices, ", "), sc.Now().Add(webhookCertValidity).UTC().Format(time.DateOnly))
			return sc.Host.WriteFile(ctx, f.Cert, cert, 0o644)
		},
		Done: func(_ context.Context, sc *StepContext) (bool, error) {
			problem, err := webhookProblem(sc)
			return problem == "" && err == nil, err
		},
		Undo: func(ctx context.Context, sc *StepContext) error {
			return sc.Host.RemoveAll(ctx, filepath.Dir(sc.Paths.Webhook().Cert))
		},
	}
}

// chartValues are the release's values: the mode, the images the payload carries, the webhook
// certificate.
func chartValues(sc *StepContext) (charts.Values, error) {
	p, err := sc.Payload()
	if err != nil {
		return charts.Values{}, err
	}
	v := charts.Values{Mode: sc.Config.Mode, LocalContext: sc.Config.ContextName, Airgap: sc.Config.AirgapBundle != "", Images: charts.Images{
		CassOperator:           p.Manifest.Images["cass-operator"],
		K8ssandraOperator:      p.Manifest.Images["k8ssandra-operator"],
		MissionControlOperator: p.Manifest.Images["mission-control-operator"],
		MissionControlAPI:      p.Manifest.Images["mission-control-api"],
		LocalPathProvisioner:   p.Manifest.Images["local-path-provisioner"],
		VolumeHelper:           p.Manifest.Images["volume-helper"],
	}, Storage: charts.Storage{Path: sc.Paths.StorageDir(), DefaultClass: sc.Config.StorageClassName}}
	f := sc.Paths.Webhook()
	for _, file := range []struct {
		path string
		into *[]byte
	}{{f.CACert, &v.Webhook.CABundle}, {f.Cert, &v.Webhook.Cert}, {f.Key, &v.Webhook.Key}} {
		if *file.into, err = sc.Host.ReadFile(file.path); err != nil {
			return charts.Values{}, fmt.Errorf("read the webhook certificate: %w", err)
		}
	}
	if sc.Config.Mode == ModeControlPlane {
		certFile, keyFile := sc.Paths.APIServing()
		if v.API.Cert, err = sc.Host.ReadFile(certFile); err != nil {
			return charts.Values{}, fmt.Errorf("read the API's serving certificate: %w", err)
		}
		if v.API.Key, err = sc.Host.ReadFile(keyFile); err != nil {
			return charts.Values{}, fmt.Errorf("read the API's serving certificate: %w", err)
		}
	}
	return v, nil
}

// applyCRDs applies every CRD the operators need, server-side, on every run: an install after
// an upgrade of the binary brings the CRDs up to date. Like installRelease, its effect lives in
// the cluster's datastore, which reset removes with the runtime: it needs no Undo.
func applyCRDs() Step {
	return Step{
		Name:  "apply-crds",
		Title: "Apply the custom resource definitions",
		Run: func(ctx context.Context, sc *StepContext) error {
			detail, err := sc.Cluster.ApplyCRDs(ctx, sc)
			sc.Detail("%s", detail)
			return err
		},
	}
}

func installRelease() Step {
	return Step{
		Name:  "install-release",
		Title: "Install the platform's operators",
		Run: func(ctx context.Context, sc *StepContext) error {
			v, err := chartValues(sc)
			if err != nil {
				return err
			}
			detail, err := sc.Cluster.InstallRelease(ctx, sc, v)
			sc.Detail("%s", detail)
			return err
		},
		Done: func(_ context.Context, sc *StepContext) (bool, error) {
			v, err := chartValues(sc)
			if err != nil {
				return false, err
			}
			return sc.Cluster.ReleaseDeployed(sc, v)
		},
	}
}

func waitForOperators() Step {
	return waitStep("wait-for-operators", "Wait for the platform's Deployments (operators, volume provisioner, API) to be Available", Cluster.WaitOperators)
}
