// Command cassandra-standin is a test double of the Cassandra server container
// (k8ssandra/cass-management-api): the management API on :8080, started by cass-operator's
// lifecycle/start, and a ring with its peers on the internode port. Test-only: never in the
// payload, a bundle or the product chart.
package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/datastax/mission-control/e2e/standin/node"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "cassandra-standin:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	ip, err := podIP()
	if err != nil {
		return err
	}
	n, err := node.New(node.Options{ConfigDir: "/config", DataDir: "/var/lib/cassandra", LogDir: "/var/log/cassandra", IP: ip,
		Verbose: os.Getenv("STANDIN_VERBOSE") == "true"})
	if err != nil {
		return err
	}
	if err := n.Listen(ctx); err != nil {
		return err
	}
	srv := &http.Server{Addr: ":" + strconv.Itoa(node.MgmtAPIPort), Handler: n.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// podIP is the address of this pod: cass-operator gives the server container no POD_IP, and the
// real server takes its listen address from the host name too.
func podIP() (string, error) {
	if ip := os.Getenv("POD_IP"); ip != "" {
		return ip, nil
	}
	name, err := os.Hostname()
	if err != nil {
		return "", err
	}
	addrs, err := net.LookupHost(name)
	if err != nil {
		return "", fmt.Errorf("resolve this pod's name %s: %w", name, err)
	}
	for _, a := range addrs {
		if ip := net.ParseIP(a); ip != nil && !ip.IsLoopback() {
			return a, nil
		}
	}
	return "", fmt.Errorf("this pod's name %s resolves to no address but loopback (%v)", name, addrs)
}
