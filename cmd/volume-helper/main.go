// Command volume-helper is the platform's volume provisioner's helper: local-path-provisioner
// runs it in a pod on the volume's node, with the storage directory mounted, to make a volume
// (-a create) or remove one (-a delete). It replaces the provisioner's shell scripts, so its
// image is one static binary and needs no shell.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"

	"github.com/datastax/mission-control/internal/host"
	"github.com/datastax/mission-control/internal/localvolume"
)

func main() {
	// Volumes are made writable by any user: the database runs as its own.
	syscall.Umask(0)
	err := run(context.Background(), host.System{}, os.Args[1:], os.Getenv("NODE_NAME"), os.Stderr, time.Now())
	switch {
	case errors.Is(err, flag.ErrHelp):
	case err != nil:
		fmt.Fprintln(os.Stderr, "volume-helper:", err)
		os.Exit(1)
	}
}

// run parses the provisioner's arguments (-p PATH -s SIZE -m MODE -a create|delete) and acts.
func run(ctx context.Context, h host.Host, args []string, node string, errOut io.Writer, now time.Time) error {
	fl := flag.NewFlagSet("volume-helper", flag.ContinueOnError)
	fl.SetOutput(errOut)
	path := fl.String("p", "", "the volume's directory")
	size := fl.Int64("s", 0, "the claim's requested size in bytes")
	mode := fl.String("m", "Filesystem", "the claim's volumeMode")
	action := fl.String("a", "", "create or delete")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if *path == "" {
		return errors.New("-p (the volume's directory) is required")
	}
	switch *action {
	case "create":
		if err := localvolume.Setup(ctx, h, localvolume.Request{Path: *path, Mode: *mode, SizeBytes: *size, Node: node}, now); err != nil {
			return err
		}
		fmt.Fprintf(errOut, "volume-helper: made %s (%d bytes requested) on %s\n", *path, *size, node)
	case "delete":
		if err := localvolume.Teardown(ctx, h, *path); err != nil {
			return err
		}
		fmt.Fprintf(errOut, "volume-helper: removed %s\n", *path)
	default:
		return fmt.Errorf("-a %q: want create or delete", *action)
	}
	return nil
}
