package k0s

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/datastax/mission-control/internal/datadir"
	"github.com/datastax/mission-control/internal/host"
)

// ResetTimeout bounds `k0s reset`: it talks to containerd without deadlines of its own, so a
// container runtime that stops answering would hold reset for ever.
const ResetTimeout = 3 * time.Minute

// ErrResetTimedOut: `k0s reset` did not finish within its deadline and was ended; what it would
// have removed is left to the caller's own cleanup (processes, mounts, files).
var ErrResetTimedOut = errors.New("k0s reset did not finish")

// Reset runs `k0s reset`, for at most timeout, which stops the pods and removes k0s' own data, keeping what it would
// take of other programs: its cleanup (k0s pkg/cleanup, removeMount) unmounts and removes every
// mount whose path holds "run/netns", so the network namespaces `ip netns` and podman keep in
// /run/netns would go with the pods'. Each of those but the pods' (cni-) is bind-mounted aside
// first and put back after, and /run/netns is bound on itself again if it was.
func Reset(ctx context.Context, h host.Host, l datadir.Layout, timeout time.Duration) error {
	mounts, err := host.MountTable(h)
	if err != nil {
		return fmt.Errorf("read mount table: %w", err)
	}
	var kept []string
	for _, m := range mounts {
		if m.FSType == "nsfs" && strings.HasPrefix(m.Point, "/run/netns/") && !strings.HasPrefix(m.Point, podNetnsPrefix) && !slices.Contains(kept, m.Point) {
			kept = append(kept, m.Point)
		}
	}
	selfBound := slices.ContainsFunc(mounts, func(m host.Mount) bool { return m.Point == "/run/netns" })
	aside := func(p string) string { return filepath.Join(l.KeptNetnsDir(), filepath.Base(p)) }
	var errs []error
	if len(kept) > 0 {
		if err := h.MkdirAll(ctx, l.KeptNetnsDir(), 0o700); err != nil {
			return err
		}
	}
	for _, p := range kept {
		if err := h.WriteFile(ctx, aside(p), nil, 0o400); err != nil {
			return err
		}
		if err := h.Mount(ctx, p, aside(p), "", "bind"); err != nil {
			return err
		}
	}
	resetCtx, cancel := context.WithTimeout(ctx, timeout)
	_, err = h.Run(resetCtx, host.Command{Name: l.K0s(), Args: []string{"reset", "--data-dir", l.K0sDataDir(), "--config", l.ConfigFile()}})
	if err != nil && ctx.Err() == nil && errors.Is(resetCtx.Err(), context.DeadlineExceeded) {
		err = fmt.Errorf("%w within %s (its container runtime did not answer) and was ended", ErrResetTimedOut, timeout)
	}
	cancel()
	errs = append(errs, err)
	if len(kept) == 0 {
		return errors.Join(errs...)
	}
	errs = append(errs, putBackNetns(ctx, h, kept, aside, selfBound))
	return errors.Join(append(errs, h.RemoveAll(ctx, l.KeptNetnsDir()))...)
}

// putBackNetns mounts each kept namespace at its place again, where k0s reset took it.
func putBackNetns(ctx context.Context, h host.Host, kept []string, aside func(string) string, selfBound bool) error {
	mounts, err := host.MountTable(h)
	if err != nil {
		return fmt.Errorf("read mount table: %w", err)
	}
	mounted := func(p string) bool {
		return slices.ContainsFunc(mounts, func(m host.Mount) bool { return m.Point == p })
	}
	if err := h.MkdirAll(ctx, "/run/netns", 0o755); err != nil {
		return err
	}
	if selfBound && !mounted("/run/netns") { // as ip netns binds it, so that namespaces propagate
		if err := h.Mount(ctx, "/run/netns", "/run/netns", "", "bind"); err != nil {
			return err
		}
		if err := h.Mount(ctx, "", "/run/netns", "", "shared"); err != nil {
			return err
		}
	}
	var errs []error
	for _, p := range kept {
		if !mounted(p) {
			if err := h.WriteFile(ctx, p, nil, 0o444); err != nil {
				errs = append(errs, err)
				continue
			}
			errs = append(errs, h.Mount(ctx, aside(p), p, "", "bind"))
		}
		errs = append(errs, h.Unmount(ctx, aside(p)))
	}
	return errors.Join(errs...)
}
