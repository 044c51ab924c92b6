// Command hello is the end-to-end tests' workload: an HTTP server that names its pod, or, with
// "probe", a client that resolves a name through the cluster DNS and makes an HTTPS request, to
// prove that CoreDNS and Services work from inside a pod; with "keep FILE CONTENT", it prints
// what FILE holds ("found ...") or writes CONTENT there ("wrote ..."), then idles: a volume's
// bytes outlive the pod that wrote them; with "dial ADDR...", it tries a TCP connection to each
// address and prints "open ADDR" or "closed ADDR": what a NetworkPolicy lets through.
package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/datastax/mission-control/internal/host"
)

func main() {
	if len(os.Args) == 3 && os.Args[1] == "log" { // print a line, then idle: a log to collect
		fmt.Println(os.Args[2])
		for {
			time.Sleep(time.Hour)
		}
	}
	if len(os.Args) == 4 && os.Args[1] == "keep" {
		if err := keep(os.Args[2], os.Args[3]); err != nil {
			fmt.Fprintln(os.Stderr, "keep:", err)
			os.Exit(1)
		}
		for {
			time.Sleep(time.Hour)
		}
	}
	if len(os.Args) > 2 && os.Args[1] == "dial" {
		for _, addr := range os.Args[2:] {
			conn, err := net.DialTimeout("tcp", addr, 3*time.Second)
			if err != nil {
				fmt.Printf("closed %s: %v\n", addr, err)
				continue
			}
			conn.Close()
			fmt.Printf("open %s\n", addr)
		}
		return
	}
	if len(os.Args) == 3 && os.Args[1] == "probe" {
		if err := probe(os.Args[2]); err != nil {
			fmt.Fprintln(os.Stderr, "probe:", err)
			os.Exit(1)
		}
		return
	}
	http.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, "hello from %s\n", os.Getenv("POD_NAME"))
	})
	if err := http.ListenAndServe(":8080", nil); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// probe resolves the host of url and requests it; any HTTP answer proves the path works. It
// retries for two minutes: a Service has no endpoints until its pods are ready.
func probe(url string) error {
	deadline := time.Now().Add(2 * time.Minute)
	for {
		err := probeOnce(url)
		if err == nil || time.Now().After(deadline) {
			return err
		}
		fmt.Fprintln(os.Stderr, "probe: retrying:", err)
		time.Sleep(2 * time.Second)
	}
}

func probeOnce(url string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	addrs, err := net.DefaultResolver.LookupHost(ctx, req.URL.Hostname())
	if err != nil {
		return fmt.Errorf("resolve %s: %w", req.URL.Hostname(), err)
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} // only reachability matters
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	fmt.Printf("%s resolved to %v, answered %s\n", req.URL.Hostname(), addrs, resp.Status)
	return nil
}

func keep(file, content string) error {
	data, err := os.ReadFile(file)
	switch {
	case err == nil:
		fmt.Printf("found %s\n", data)
		return nil
	case !os.IsNotExist(err):
		return err
	}
	if err := (host.System{}).WriteFile(context.Background(), file, []byte(content), 0o644); err != nil {
		return err
	}
	fmt.Printf("wrote %s\n", content)
	return nil
}
