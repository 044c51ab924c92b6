// Command pod-network-peering runs on every node of a cluster (a DaemonSet of the pod network)
// and keeps the node's traffic to registered clusters' pods unmasqueraded (see package peering):
// it reads the peers ConfigMap, mounted at --peers, every --interval and syncs the node's nat
// table; when a peer leaves the ConfigMap (deregister), it also withdraws the routes to its pods. It needs no API access, so it keeps working while the cluster's API is down, and leaves
// the rules in place when it stops: a restart of the pod does not cut the peers off.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"

	"github.com/datastax/mission-control/internal/host"
	"github.com/datastax/mission-control/operators/peering"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, host.System{}, os.Args[1:], os.Stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
	case err != nil:
		fmt.Fprintln(os.Stderr, "pod-network-peering:", err)
		os.Exit(1)
	}
}

// run syncs until ctx ends; a sync that fails is logged and retried at the next interval.
func run(ctx context.Context, h host.Host, args []string, errOut io.Writer) error {
	fl := flag.NewFlagSet("pod-network-peering", flag.ContinueOnError)
	fl.SetOutput(errOut)
	podCIDR := fl.String("pod-cidr", "", "this cluster's pod range, e.g. 10.0.0.0/17")
	dir := fl.String("peers", "/etc/mission-control/peers", "where the peers ConfigMap is mounted")
	interval := fl.Duration("interval", 5*time.Second, "how often to sync")
	if err := fl.Parse(args); err != nil {
		return err
	}
	own, err := netip.ParsePrefix(*podCIDR)
	if err != nil {
		return fmt.Errorf("--pod-cidr %q is not a range (e.g. 10.0.0.0/17): %w", *podCIDR, err)
	}
	if *interval <= 0 {
		return fmt.Errorf("--interval %s must be positive", *interval)
	}
	log := slog.New(slog.NewTextHandler(errOut, nil))
	var last []netip.Prefix
	var lastErr string
	for {
		ranges, err := peering.Ranges(h, *dir)
		if err == nil {
			var changed bool
			if changed, err = peering.Sync(ctx, h, own, ranges); err == nil && (changed || !slices.Equal(ranges, last)) {
				log.Info("peers' pod ranges sent untranslated", "from", own, "to", fmt.Sprint(ranges), "changed", changed)
				gone := slices.DeleteFunc(slices.Clone(last), func(p netip.Prefix) bool { return slices.Contains(ranges, p) })
				var n int
				if n, err = peering.Withdraw(ctx, h, gone); n > 0 {
					log.Info("routes to deregistered clusters' pods withdrawn", "ranges", fmt.Sprint(gone), "routes", n)
				}
				if err == nil {
					last = ranges
				}
			}
		}
		if err != nil && err.Error() != lastErr {
			log.Error("sync the peers' pod ranges", "error", err)
		}
		lastErr = ""
		if err != nil {
			lastErr = err.Error()
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(*interval):
		}
	}
}
