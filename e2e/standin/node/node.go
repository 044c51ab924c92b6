package node

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Options place a node: its config, data and log directories, its address, and how it resolves
// seed names (the cluster's DNS in a pod).
type Options struct {
	ConfigDir, DataDir, LogDir string
	IP                         string
	Resolve                    func(ctx context.Context, name string) ([]string, error)
	// GossipInterval is how often a started node exchanges with its peers (2 s when zero).
	GossipInterval time.Duration
	// Verbose logs every failed exchange.
	Verbose bool
}

// Node is one cassandra-standin.
type Node struct {
	opts      Options
	cfg       Config
	ring      ring
	clientTLS *tls.Config
	serverTLS *tls.Config
	marker    string
	logFile   io.Writer

	mu      sync.Mutex
	started bool
	db      database
	jobs    map[string]job
	ctx     context.Context
}

// markerFile is written to the data volume at a node's first start: its host ID and when. A node
// restarted on the same volume keeps both, as a real node keeps its data. bootstrappedFile says
// the node has been in a ring: like a bootstrapped Cassandra node, it then starts without a seed
// answering (after a stopped datacenter starts again, cass-operator labels no seed first).
const (
	markerFile       = "standin-marker"
	bootstrappedFile = "standin-bootstrapped"
)

// New reads the config and the data volume (making the node's host ID and marker on first
// start) and prepares internode TLS when cassandra.yaml asks for it.
func New(opts Options) (*Node, error) {
	cfg, err := LoadConfig(opts.ConfigDir)
	if err != nil {
		return nil, err
	}
	n := &Node{opts: opts, cfg: cfg, jobs: map[string]job{}, db: newDatabase()}
	if n.opts.GossipInterval == 0 {
		n.opts.GossipInterval = 2 * time.Second
	}
	if err := os.MkdirAll(opts.LogDir, 0o755); err == nil {
		if f, err := os.OpenFile(filepath.Join(opts.LogDir, "system.log"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644); err == nil {
			n.logFile = f
		}
	}
	hostID, marker, err := loadMarker(opts.DataDir, opts.IP)
	if err != nil {
		return nil, err
	}
	n.marker = marker
	n.ring = ring{cluster: cfg.ClusterName, members: map[string]Member{},
		self: Member{HostID: hostID, IP: opts.IP, DC: cfg.DC, Rack: cfg.Rack, Status: "NORMAL"}}
	if _, err := os.Stat(filepath.Join(opts.DataDir, bootstrappedFile)); err == nil {
		n.ring.joined = true
	} else {
		n.ring.onJoin = func() {
			if err := os.WriteFile(filepath.Join(opts.DataDir, bootstrappedFile), nil, 0o644); err != nil {
				n.log("record the bootstrap: %v", err)
			}
		}
	}
	if cfg.Encryption.Enabled() {
		if n.serverTLS, n.clientTLS, err = tlsConfigs(cfg.Encryption); err != nil {
			return nil, fmt.Errorf("internode encryption: %w", err)
		}
	}
	n.log("cassandra-standin %s: cluster %s, datacenter %s, rack %s, host ID %s, address %s, internode port %d (TLS %v), seeds %s; data marker: %s",
		cfg.ProductVersion, cfg.ClusterName, cfg.DC, cfg.Rack, hostID, opts.IP, n.internodePort(), n.serverTLS != nil, strings.Join(cfg.Seeds, ","), marker)
	return n, nil
}

// loadMarker reads the data volume's marker, or writes it on first start.
func loadMarker(dataDir, ip string) (hostID, marker string, err error) {
	path := filepath.Join(dataDir, markerFile)
	if b, err := os.ReadFile(path); err == nil {
		marker = strings.TrimSpace(string(b))
		hostID, _, _ = strings.Cut(marker, " ")
		return hostID, marker, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", "", err
	}
	hostID = newUUID()
	marker = fmt.Sprintf("%s first started at %s on %s", hostID, time.Now().UTC().Format(time.RFC3339), ip)
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return "", "", err
	}
	return hostID, marker, os.WriteFile(path, []byte(marker+"\n"), 0o644)
}

// Listen opens the internode port; Start begins gossip once the management API is told to start.
func (n *Node) Listen(ctx context.Context) error {
	n.ctx = ctx
	var ln net.Listener
	var err error
	addr := net.JoinHostPort(n.opts.IP, strconv.Itoa(n.internodePort())) // as listen_address
	if n.serverTLS != nil {
		ln, err = tls.Listen("tcp", addr, n.serverTLS)
	} else {
		ln, err = net.Listen("tcp", addr)
	}
	if err != nil {
		return fmt.Errorf("internode port: %w", err)
	}
	go n.serveInternode(ctx, ln)
	return nil
}

// start is lifecycle/start: the node joins its ring. It reports whether it was already running.
func (n *Node) start() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.started {
		return true
	}
	n.started = true
	n.ring.setStatus("NORMAL")
	go n.gossip(n.ctx, n.opts.GossipInterval)
	n.log("started: joining the ring through %s", strings.Join(n.cfg.Seeds, ", "))
	return false
}

func (n *Node) isStarted() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.started
}

// ready: started and in a ring (a peer answered, or this node is its own seed).
func (n *Node) ready() bool { return n.isStarted() && n.ring.hasJoined() }

func (n *Node) resolve(ctx context.Context, name string) ([]string, error) {
	if ip := net.ParseIP(name); ip != nil {
		return []string{name}, nil
	}
	if n.opts.Resolve != nil {
		return n.opts.Resolve(ctx, name)
	}
	return net.DefaultResolver.LookupHost(ctx, name)
}

// log writes a line to system.log (the system logger's source) and to stderr.
func (n *Node) log(format string, args ...any) {
	line := fmt.Sprintf("INFO  [standin] %s %s\n", time.Now().UTC().Format("2006-01-02 15:04:05,000"), fmt.Sprintf(format, args...))
	if n.logFile != nil {
		_, _ = io.WriteString(n.logFile, line)
	}
	_, _ = io.WriteString(os.Stderr, line)
}

func (n *Node) debug(format string, args ...any) {
	if n.opts.Verbose {
		n.log(format, args...)
	}
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
