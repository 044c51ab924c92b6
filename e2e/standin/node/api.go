package node

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// MgmtAPIPort is where cass-operator calls the management API (plain HTTP on the pod's IP).
const MgmtAPIPort = 8080

// features are what metadata/versions/features lists: the async tasks cass-operator then calls
// through /api/v1 and polls as jobs. full_query_logging is left out, so it is never asked.
var features = []string{"async_sstable_tasks", "rebuild", "async_upgrade_sstable_task", "async_compaction_task",
	"async_scrub_task", "async_flush_task", "async_gc_task", "async_move_task"}

// schemaVersion is the one schema every node reports: the stand-in keeps no tables.
const schemaVersion = "e84b6a60-24cf-30ca-9b58-452d92911703"

type role struct {
	Name        string `json:"name"`
	Super       bool   `json:"super"`
	Login       bool   `json:"login"`
	Options     string `json:"options"`
	Datacenters string `json:"datacenters"`
}

// database is the schema the management API answers about: keyspaces with their replication,
// and roles.
type database struct {
	mu        sync.Mutex
	keyspaces map[string]map[string]string
	roles     map[string]role
}

func newDatabase() database {
	simple := func() map[string]string {
		return map[string]string{"class": "org.apache.cassandra.locator.SimpleStrategy", "replication_factor": "1"}
	}
	return database{
		keyspaces: map[string]map[string]string{"system_auth": simple(), "system_distributed": simple(), "system_traces": simple()},
		roles:     map[string]role{"cassandra": {Name: "cassandra", Super: true, Login: true, Options: "{}", Datacenters: "ALL"}},
	}
}

type job struct {
	ID         string `json:"id"`
	Type       string `json:"type"`
	Status     string `json:"status"`
	SubmitTime string `json:"submit_time"`
	EndTime    string `json:"end_time"`
	Error      string `json:"error,omitempty"`
}

// Handler is the management API.
func (n *Node) Handler() http.Handler {
	mux := http.NewServeMux()
	ok := func(w http.ResponseWriter) { w.WriteHeader(http.StatusOK); fmt.Fprint(w, "OK") }
	mux.HandleFunc("GET /api/v0/probes/liveness", func(w http.ResponseWriter, _ *http.Request) { ok(w) })
	mux.HandleFunc("GET /api/v0/probes/readiness", func(w http.ResponseWriter, _ *http.Request) {
		if !n.ready() {
			http.Error(w, "not ready: "+n.notReadyReason(), http.StatusInternalServerError)
			return
		}
		ok(w)
	})
	mux.HandleFunc("GET /api/v0/probes/cluster", func(w http.ResponseWriter, _ *http.Request) {
		_, members := n.ring.snapshot()
		for _, m := range members {
			if !alive(m, n.ring.self.HostID) {
				http.Error(w, "node "+m.IP+" is down", http.StatusInternalServerError)
				return
			}
		}
		ok(w)
	})
	mux.HandleFunc("POST /api/v0/lifecycle/start", func(w http.ResponseWriter, _ *http.Request) {
		if n.start() {
			w.WriteHeader(http.StatusAccepted)
			return
		}
		w.WriteHeader(http.StatusCreated)
	})
	mux.HandleFunc("POST /api/v0/lifecycle/stop", func(w http.ResponseWriter, _ *http.Request) { ok(w) })
	mux.HandleFunc("GET /api/v0/metadata/versions/features", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, map[string]any{"cassandra_version": n.cfg.ProductVersion, "features": features})
	})
	mux.HandleFunc("GET /api/v0/metadata/versions/release", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, n.cfg.ProductVersion)
	})
	mux.HandleFunc("GET /api/v0/metadata/endpoints", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, map[string]any{"entity": n.endpoints()})
	})
	mux.HandleFunc("POST /api/v0/ops/seeds/reload", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, n.cfg.Seeds) })
	mux.HandleFunc("POST /api/v0/ops/node/drain", func(w http.ResponseWriter, _ *http.Request) {
		n.log("drained")
		ok(w)
	})
	mux.HandleFunc("/api/v0/ops/auth/role", n.handleRole)
	mux.HandleFunc("GET /api/v0/ops/keyspace", func(w http.ResponseWriter, r *http.Request) {
		n.db.mu.Lock()
		defer n.db.mu.Unlock()
		var names []string
		for name := range n.db.keyspaces {
			if want := r.URL.Query().Get("keyspaceName"); want == "" || want == name {
				names = append(names, name)
			}
		}
		slices.Sort(names)
		writeJSON(w, append([]string{}, names...))
	})
	mux.HandleFunc("GET /api/v0/ops/keyspace/replication", func(w http.ResponseWriter, r *http.Request) {
		n.db.mu.Lock()
		defer n.db.mu.Unlock()
		repl, found := n.db.keyspaces[r.URL.Query().Get("keyspaceName")]
		if !found {
			http.Error(w, "keyspace not found", http.StatusNotFound)
			return
		}
		writeJSON(w, repl)
	})
	alter := func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Keyspace    string `json:"keyspace_name"`
			Replication []struct {
				DC string `json:"dc_name"`
				RF any    `json:"replication_factor"`
			} `json:"replication_settings"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Keyspace == "" {
			http.Error(w, "want {keyspace_name, replication_settings}", http.StatusBadRequest)
			return
		}
		repl := map[string]string{"class": "org.apache.cassandra.locator.NetworkTopologyStrategy"}
		for _, s := range req.Replication {
			repl[s.DC] = fmt.Sprint(s.RF)
		}
		n.db.mu.Lock()
		n.db.keyspaces[req.Keyspace] = repl
		n.db.mu.Unlock()
		n.log("keyspace %s: replication %v", req.Keyspace, repl)
		ok(w)
	}
	mux.HandleFunc("POST /api/v0/ops/keyspace/alter", alter)
	mux.HandleFunc("POST /api/v0/ops/keyspace/create", alter)
	mux.HandleFunc("GET /api/v1/ops/node/schema/versions", func(w http.ResponseWriter, _ *http.Request) {
		_, members := n.ring.snapshot()
		var ips []string
		for _, m := range members {
			if alive(m, n.ring.self.HostID) {
				ips = append(ips, m.IP)
			}
		}
		writeJSON(w, map[string][]string{schemaVersion: ips})
	})
	mux.HandleFunc("GET /api/v0/ops/executor/job", func(w http.ResponseWriter, r *http.Request) {
		n.mu.Lock()
		j, found := n.jobs[r.URL.Query().Get("job_id")]
		n.mu.Unlock()
		if !found {
			http.Error(w, "job not found", http.StatusNotFound)
			return
		}
		writeJSON(w, j)
	})
	for _, op := range []string{"/api/v1/ops/keyspace/cleanup", "/api/v1/ops/tables/sstables/upgrade", "/api/v1/ops/tables/compact",
		"/api/v1/ops/tables/scrub", "/api/v1/ops/tables/flush", "/api/v1/ops/tables/garbagecollect", "/api/v1/ops/node/rebuild",
		"/api/v0/ops/node/move", "/api/v1/ops/node/move"} {
		mux.HandleFunc("POST "+op, func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, n.completedJob(op)) })
	}
	mux.HandleFunc("POST /api/v1/ops/node/decommission", func(w http.ResponseWriter, _ *http.Request) {
		n.ring.setStatus("LEFT")
		n.log("decommissioned: left the ring")
		fmt.Fprint(w, n.completedJob("decommission"))
	})
	mux.HandleFunc("POST /api/v0/ops/node/encryption/internode/truststore/reload", func(w http.ResponseWriter, _ *http.Request) { ok(w) })
	// The stand-in's own report, for tests: its host ID, its data marker and its ring.
	mux.HandleFunc("GET /api/v0/standin", func(w http.ResponseWriter, _ *http.Request) {
		_, members := n.ring.snapshot()
		writeJSON(w, map[string]any{"hostId": n.ring.self.HostID, "marker": n.marker, "started": n.isStarted(),
			"internodePort": n.internodePort(), "tls": n.serverTLS != nil, "ring": members})
	})
	return mux
}

func (n *Node) notReadyReason() string {
	if !n.isStarted() {
		return "not started (waiting for lifecycle/start)"
	}
	return "not in a ring yet: no seed answered"
}

// endpoints is metadata/endpoints' entity: every member with the fields cass-operator reads.
func (n *Node) endpoints() []map[string]string {
	self, members := n.ring.snapshot()
	out := make([]map[string]string, 0, len(members))
	for _, m := range members {
		status := m.Status
		if status == "" {
			status = "NORMAL"
		}
		out = append(out, map[string]string{
			"HOST_ID": m.HostID, "ENDPOINT_IP": m.IP, "IS_ALIVE": strconv.FormatBool(alive(m, self.HostID)),
			"IS_LOCAL": strconv.FormatBool(m.HostID == self.HostID), "DC": m.DC, "RACK": m.Rack,
			"STATUS": status, "STATUS_WITH_PORT": status, "NATIVE_ADDRESS_AND_PORT": m.IP + ":9042", "RPC_ADDRESS": m.IP,
			"RELEASE_VERSION": n.cfg.ProductVersion, "SCHEMA": schemaVersion, "LOAD": "0.0", "CLUSTER_NAME": n.cfg.ClusterName,
			"RPC_READY": "true", "TOKENS": "<hidden>", "PARTITIONER": "org.apache.cassandra.dht.Murmur3Partitioner",
		})
	}
	return out
}

func (n *Node) handleRole(w http.ResponseWriter, r *http.Request) {
	n.db.mu.Lock()
	defer n.db.mu.Unlock()
	q := r.URL.Query()
	switch r.Method {
	case http.MethodGet:
		roles := make([]role, 0, len(n.db.roles))
		for _, ro := range n.db.roles {
			roles = append(roles, ro)
		}
		slices.SortFunc(roles, func(a, b role) int { return strings.Compare(a.Name, b.Name) })
		writeJSON(w, roles)
	case http.MethodPost:
		name := q.Get("username")
		if name == "" || q.Get("password") == "" {
			http.Error(w, "username and password are required", http.StatusBadRequest)
			return
		}
		n.db.roles[name] = role{Name: name, Super: q.Get("is_superuser") == "true", Login: q.Get("can_login") == "true", Options: "{}", Datacenters: "ALL"}
		n.log("role %s created or updated", name)
		w.WriteHeader(http.StatusOK)
		fmt.Fprint(w, "OK")
	case http.MethodDelete:
		delete(n.db.roles, q.Get("username"))
		fmt.Fprint(w, "OK")
	default:
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

// completedJob records an operation as a job that has completed (the stand-in has no data to
// work on) and returns its id, bare, as the real API does.
func (n *Node) completedJob(kind string) string {
	now := strconv.FormatInt(time.Now().UnixMilli(), 10)
	id := newUUID()
	n.mu.Lock()
	n.jobs[id] = job{ID: id, Type: kind, Status: "COMPLETED", SubmitTime: now, EndTime: now}
	n.mu.Unlock()
	n.log("job %s (%s) completed", id, kind)
	return id
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
