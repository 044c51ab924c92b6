// Command testhost is the vm-tests suites' helper on a host under test (vm-tests/run.sh builds it
// and copies it beside mission-control):
//
//	testhost snapshot [--netns PATH]    print what reset must restore, as JSON
//	testhost diff BEFORE AFTER          list what differs between two snapshots; exit 1 if anything
//	testhost guard-up CIDR [CIDR]       keep runtimes installed on the CIDRs from sending off the machine
//	testhost guard-down                 remove the guard
//	testhost isolate ADDR/LEN           make a network namespace with no route off the machine, print its holder's PID
//	testhost hold-port PORT             listen on PORT in the background, print the listener's PID
//	testhost free-range SPACE BITS      print the first range of /BITS in SPACE that no route or address of this host overlaps
//	testhost https-get CA URL [TOKEN]   GET URL over TLS verified with the CA file (bearer TOKEN if given); print the status, then the body
//
// A background process it starts ends with kill PID.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/datastax/mission-control/internal/host"
	"github.com/datastax/mission-control/internal/testhost"
)

func main() {
	if err := run(context.Background(), os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "testhost:", err)
		os.Exit(2)
	}
}

func run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return errors.New("usage: testhost snapshot|diff|guard-up|guard-down|isolate|hold-port ARG")
	}
	switch cmd, args := args[0], args[1:]; cmd {
	case "snapshot":
		fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
		netns := fs.String("netns", "", "network namespace path, e.g. /proc/42/ns/net")
		if err := fs.Parse(args); err != nil {
			return err
		}
		s, err := testhost.TakeSnapshot(ctx, *netns)
		if err != nil {
			return err
		}
		return json.NewEncoder(os.Stdout).Encode(s)
	case "diff":
		fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
		running := fs.String("running", "", "the data dir of a runtime running in both: its live state is not compared, e.g. /var/lib/mission-control")
		if err := fs.Parse(args); err != nil {
			return err
		}
		if args = fs.Args(); len(args) != 2 {
			return fmt.Errorf("usage: testhost diff [--running DATADIR] BEFORE AFTER")
		}
		var before, after testhost.Snapshot
		for i, s := range []*testhost.Snapshot{&before, &after} {
			data, err := os.ReadFile(args[i])
			if err != nil {
				return err
			}
			if err := json.Unmarshal(data, s); err != nil {
				return fmt.Errorf("%s: %w", args[i], err)
			}
		}
		if *running != "" {
			before, after = before.WithoutRuntimeState(*running), after.WithoutRuntimeState(*running)
		}
		if diff := before.Diff(after); len(diff) > 0 {
			fmt.Println(strings.Join(diff, "\n"))
			os.Exit(1)
		}
		return nil
	case "guard-up":
		if len(args) == 0 {
			return errors.New("usage: testhost guard-up CIDR [CIDR]")
		}
		return testhost.GuardUp(ctx, args...)
	case "guard-down":
		return testhost.GuardDown(ctx)
	case "isolate":
		if len(args) != 1 {
			return fmt.Errorf("usage: testhost isolate ADDR/LEN")
		}
		pid, err := testhost.Isolate(ctx, args[0])
		if err != nil {
			return err
		}
		fmt.Println(pid)
		return nil
	case "free-range":
		if len(args) != 2 {
			return errors.New("usage: testhost free-range SPACE BITS, e.g. testhost free-range 172.16.0.0/12 24")
		}
		free, err := testhost.FreeRange(args[0], args[1])
		if err != nil {
			return err
		}
		fmt.Println(free)
		return nil
	case "https-get":
		if len(args) != 2 && len(args) != 3 {
			return errors.New("usage: testhost https-get CA-FILE URL [TOKEN]")
		}
		return httpsGet(ctx, args[0], args[1], args[2:])
	case "hold-port":
		if len(args) != 1 {
			return fmt.Errorf("usage: testhost hold-port PORT")
		}
		return holdPort(ctx, args[0])
	case "listen": // hold-port's background process
		l, err := net.Listen("tcp", ":"+args[0])
		if err != nil {
			return err
		}
		for { // until killed; connections (hold-port's probe) are closed at once
			c, err := l.Accept()
			if err != nil {
				return err
			}
			c.Close()
		}
	default:
		return fmt.Errorf("unknown command %q", cmd)
	}
}

// holdPort starts a listener on port in the background and prints its PID once it listens.
func holdPort(ctx context.Context, port string) error {
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("port %q: %w", port, err)
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	pid, err := (host.System{}).Start(ctx, host.Command{Name: self, Args: []string{"listen", port}}, os.DevNull)
	if err != nil {
		return err
	}
	if err := wait.PollUntilContextTimeout(ctx, 20*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
		c, err := net.Dial("tcp", "127.0.0.1:"+port)
		if err == nil {
			c.Close()
		}
		return err == nil, nil
	}); err != nil {
		return fmt.Errorf("the listener (pid %d) is not listening on %s after 10s", pid, port)
	}
	fmt.Println(pid)
	return nil
}

// httpsGet GETs url as a workstation would: TLS verified with the CA in caFile only.
func httpsGet(ctx context.Context, caFile, url string, token []string) error {
	ca, err := os.ReadFile(caFile)
	if err != nil {
		return err
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(ca) {
		return fmt.Errorf("%s holds no PEM certificate", caFile)
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	if len(token) == 1 {
		req.Header.Set("Authorization", "Bearer "+token[0])
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	res, err := client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	fmt.Printf("%d\n%s\n", res.StatusCode, body)
	return nil
}
