package api

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/datastax/mission-control/operators/missioncontrol"
)

// RunOptions are the API server's flags.
type RunOptions struct {
	Listen           string
	TLSCertFile      string
	TLSKeyFile       string
	Namespace        string
	DataPlaneTimeout time.Duration
}

// Run reads the server's flags from args and serves in the cluster it runs in until ctx ends.
func Run(ctx context.Context, args []string, errOut io.Writer) error {
	o, err := parseFlags(args, errOut)
	if err != nil {
		return err
	}
	cfg, err := rest.InClusterConfig()
	if err != nil {
		return fmt.Errorf("the API server runs in a pod of the control plane: %w", err)
	}
	return Serve(ctx, cfg, o, slog.New(slog.NewJSONHandler(errOut, nil)))
}

func parseFlags(args []string, errOut io.Writer) (RunOptions, error) {
	o := RunOptions{Listen: ":8443", DataPlaneTimeout: 5 * time.Second}
	fs := flag.NewFlagSet("mission-control-api", flag.ContinueOnError)
	fs.SetOutput(errOut)
	fs.StringVar(&o.Listen, "listen", o.Listen, "address to serve the API and the UI on")
	fs.StringVar(&o.TLSCertFile, "tls-cert-file", "", "serving certificate (PEM); with --tls-key-file")
	fs.StringVar(&o.TLSKeyFile, "tls-key-file", "", "serving certificate's key (PEM)")
	fs.StringVar(&o.Namespace, "namespace", "", "namespace of the data planes' registrations (default mission-control)")
	fs.DurationVar(&o.DataPlaneTimeout, "data-plane-timeout", o.DataPlaneTimeout, "how long a data plane may take to answer before it counts as not answering")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q: the server takes flags only (see -h)", fs.Arg(0))
	}
	if (o.TLSCertFile == "") != (o.TLSKeyFile == "") {
		return o, errors.New("--tls-cert-file and --tls-key-file go together: give both, or neither to serve plain HTTP behind a TLS proxy")
	}
	return o, nil
}

// Serve serves the API and UI with cfg's cluster until ctx ends. cfg's own credentials are the
// server's identity (Options.Self); users' requests carry their own.
func Serve(ctx context.Context, cfg *rest.Config, o RunOptions, log *slog.Logger) error {
	scheme, err := missioncontrol.Scheme()
	if err != nil {
		return err
	}
	self, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return fmt.Errorf("client for the control plane: %w", err)
	}
	tls := o.TLSCertFile != ""
	s, err := New(Options{Kubernetes: cfg, Self: self, Namespace: o.Namespace, DataPlaneTimeout: o.DataPlaneTimeout, SecureCookies: tls, Log: log})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", o.Listen, err)
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	log.Info("serving the Mission Control API and UI", "address", ln.Addr().String(), "tls", tls)
	if tls {
		err = srv.ServeTLS(ln, o.TLSCertFile, o.TLSKeyFile)
	} else {
		err = srv.Serve(ln)
	}
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}
