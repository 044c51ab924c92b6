package node

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"software.sslmate.com/src/go-pkcs12"
)

// Internode ports, as Cassandra's storage_port and ssl_storage_port.
const (
	StoragePort    = 7000
	SSLStoragePort = 7001
)

// Member is one node of the ring as this node knows it.
type Member struct {
	HostID string    `json:"hostId"`
	IP     string    `json:"ip"`
	DC     string    `json:"dc"`
	Rack   string    `json:"rack"`
	Status string    `json:"status"` // NORMAL, LEAVING, LEFT
	Seen   time.Time `json:"seen"`   // when this node last heard from it (itself: now)
}

// aliveFor is how long a member counts as alive after it was last heard from.
const aliveFor = 20 * time.Second

// message is what two nodes exchange on the internode port: each sends its cluster's name and
// the members it knows, and merges the other's.
type message struct {
	Cluster string   `json:"cluster"`
	From    Member   `json:"from"`
	Members []Member `json:"members"`
}

// ring is a node's view of its cluster.
type ring struct {
	mu      sync.Mutex
	self    Member
	cluster string
	members map[string]Member // by host ID, self excluded
	// joined: at least one exchange with a peer succeeded, or this node is its own seed, or it
	// has been in the ring before (bootstrapped).
	joined bool
	// onJoin runs once, when the node first joins.
	onJoin func()
}

// join marks the node joined; the caller holds mu.
func (r *ring) join() {
	if !r.joined && r.onJoin != nil {
		go r.onJoin()
	}
	r.joined = true
}

func (r *ring) snapshot() (Member, []Member) {
	r.mu.Lock()
	defer r.mu.Unlock()
	self := r.self
	self.Seen = time.Now()
	out := []Member{self}
	for _, m := range r.members {
		out = append(out, m)
	}
	slices.SortFunc(out, func(a, b Member) int { return compareIP(a.IP, b.IP) })
	return self, out
}

// merge takes what a peer knows: its own entry is fresh; others' only when newer than ours.
func (r *ring) merge(msg message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if msg.Cluster != r.cluster {
		return fmt.Errorf("a node of cluster %q, not %q", msg.Cluster, r.cluster)
	}
	from := msg.From
	from.Seen = time.Now()
	for _, m := range append(msg.Members, from) {
		if m.HostID == r.self.HostID || m.HostID == "" {
			continue
		}
		if m.IP != "" { // a node that came back on another address replaces its old entry
			for id, old := range r.members {
				if old.IP == m.IP && id != m.HostID && m.Seen.After(old.Seen) {
					delete(r.members, id)
				}
			}
		}
		if old, ok := r.members[m.HostID]; !ok || m.Seen.After(old.Seen) {
			r.members[m.HostID] = m
		}
	}
	r.join()
	return nil
}

func (r *ring) setStatus(status string) {
	r.mu.Lock()
	r.self.Status = status
	r.mu.Unlock()
}

func (r *ring) hasJoined() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.joined
}

func alive(m Member, self string) bool {
	return m.HostID == self || time.Since(m.Seen) < aliveFor
}

// tlsConfigs builds the internode TLS of cassandra.yaml: the keystore's key and certificate,
// peers checked against the truststore's CAs both ways (mutual TLS). Like Cassandra's default
// (require_endpoint_verification: false), a peer's name is not checked, only its chain.
func tlsConfigs(e Encryption) (server, client *tls.Config, err error) {
	ks, err := os.ReadFile(e.Keystore)
	if err != nil {
		return nil, nil, fmt.Errorf("keystore: %w", err)
	}
	key, cert, chain, err := pkcs12.DecodeChain(ks, e.KeystorePassword)
	if err != nil {
		return nil, nil, fmt.Errorf("keystore %s: %w", e.Keystore, err)
	}
	ts, err := os.ReadFile(e.Truststore)
	if err != nil {
		return nil, nil, fmt.Errorf("truststore: %w", err)
	}
	cas, err := pkcs12.DecodeTrustStore(ts, e.TruststorePassword)
	if err != nil {
		return nil, nil, fmt.Errorf("truststore %s: %w", e.Truststore, err)
	}
	pool := x509.NewCertPool()
	for _, ca := range cas {
		pool.AddCert(ca)
	}
	leaf := tls.Certificate{PrivateKey: key, Leaf: cert, Certificate: [][]byte{cert.Raw}}
	for _, c := range chain {
		leaf.Certificate = append(leaf.Certificate, c.Raw)
	}
	verify := func(raw [][]byte, _ [][]*x509.Certificate) error {
		if len(raw) == 0 {
			return errors.New("the peer presented no certificate")
		}
		certs := make([]*x509.Certificate, len(raw))
		for i, b := range raw {
			c, err := x509.ParseCertificate(b)
			if err != nil {
				return err
			}
			certs[i] = c
		}
		inter := x509.NewCertPool()
		for _, c := range certs[1:] {
			inter.AddCert(c)
		}
		_, err := certs[0].Verify(x509.VerifyOptions{Roots: pool, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
		return err
	}
	server = &tls.Config{Certificates: []tls.Certificate{leaf}, ClientAuth: tls.RequireAnyClientCert, VerifyPeerCertificate: verify, MinVersion: tls.VersionTLS12}
	client = &tls.Config{Certificates: []tls.Certificate{leaf}, InsecureSkipVerify: true, VerifyPeerCertificate: verify, MinVersion: tls.VersionTLS12} //nolint:gosec // the chain is verified, the name is not (as Cassandra)
	return server, client, nil
}

// serveInternode answers peers on ln until ctx ends.
func (n *Node) serveInternode(ctx context.Context, ln net.Listener) {
	go func() { <-ctx.Done(); ln.Close() }()
	for {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer conn.Close()
			_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
			var msg message
			if err := json.NewDecoder(bufio.NewReader(conn)).Decode(&msg); err != nil {
				n.log("internode: from %s: %v", conn.RemoteAddr(), err)
				return
			}
			if err := n.ring.merge(msg); err != nil {
				n.log("internode: refused %s: %v", conn.RemoteAddr(), err)
				return
			}
			_ = json.NewEncoder(conn).Encode(n.message())
		}()
	}
}

func (n *Node) message() message {
	self, members := n.ring.snapshot()
	return message{Cluster: n.ring.cluster, From: self, Members: members}
}

// exchange sends what this node knows to addr and merges the answer.
func (n *Node) exchange(ctx context.Context, addr string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var conn net.Conn
	var err error
	target := net.JoinHostPort(addr, strconv.Itoa(n.internodePort()))
	if n.clientTLS != nil {
		conn, err = (&tls.Dialer{Config: n.clientTLS}).DialContext(ctx, "tcp", target)
	} else {
		conn, err = (&net.Dialer{}).DialContext(ctx, "tcp", target)
	}
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	if err := json.NewEncoder(conn).Encode(n.message()); err != nil {
		return err
	}
	var reply message
	if err := json.NewDecoder(bufio.NewReader(conn)).Decode(&reply); err != nil {
		return err
	}
	return n.ring.merge(reply)
}

// gossip dials the seeds and every known member every interval, once started.
func (n *Node) gossip(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		targets := map[string]bool{}
		for _, seed := range n.cfg.Seeds {
			addrs, err := n.resolve(ctx, seed)
			if err != nil {
				continue // a seed service without ready seeds yet
			}
			for _, a := range addrs {
				targets[a] = true
				if a == n.ring.self.IP { // this node is a seed: it makes the ring
					n.ring.mu.Lock()
					n.ring.join()
					n.ring.mu.Unlock()
				}
			}
		}
		_, members := n.ring.snapshot()
		for _, m := range members {
			if m.Status != "LEFT" {
				targets[m.IP] = true
			}
		}
		delete(targets, n.ring.self.IP)
		for addr := range targets {
			if err := n.exchange(ctx, addr); err != nil {
				n.debug("internode: %s: %v", addr, err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (n *Node) internodePort() int {
	if n.cfg.Encryption.Enabled() {
		return SSLStoragePort
	}
	return StoragePort
}

// compareIP orders addresses numerically.
func compareIP(a, b string) int {
	pa, pb := net.ParseIP(a), net.ParseIP(b)
	if pa == nil || pb == nil {
		return strings.Compare(a, b)
	}
	return slices.Compare(pa.To16(), pb.To16())
}
