// Command system-logger-standin is a test double of the system logger container
// (k8ssandra/system-logger): it follows the server's /var/log/cassandra/system.log onto its own
// standard output, so that the node's log is the pod's. Test-only.
package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

const logFile = "/var/log/cassandra/system.log"

func main() {
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, os.Interrupt)
	var f *os.File
	for {
		select {
		case <-stop:
			return
		case <-time.After(500 * time.Millisecond):
		}
		if f == nil {
			var err error
			if f, err = os.Open(logFile); err != nil {
				continue // the server has not written it yet
			}
		}
		if _, err := io.Copy(os.Stdout, f); err != nil {
			fmt.Fprintln(os.Stderr, "system-logger-standin:", err)
		}
	}
}
