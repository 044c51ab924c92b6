package k0s

import (
	"io/fs"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/datastax/mission-control/internal/datadir"
	"github.com/datastax/mission-control/internal/host"
)

// fakeReader is a host with the given files, and kernel parameters under "sysctl:KEY";
// everything else is missing.
type fakeReader map[string]string

func (f fakeReader) ReadFile(path string) ([]byte, error) {
	if v, ok := f[path]; ok {
		return []byte(v), nil
	}
	return nil, &fs.PathError{Op: "open", Path: path, Err: fs.ErrNotExist}
}
func (f fakeReader) Open(path string) (fs.File, error) {
	return nil, &fs.PathError{Op: "open", Path: path, Err: fs.ErrNotExist}
}
func (f fakeReader) Exists(path string) (bool, error) { _, ok := f[path]; return ok, nil }
func (f fakeReader) ReadDir(dir string) ([]string, error) {
	var names []string
	for p := range f {
		if rest, ok := strings.CutPrefix(p, dir+"/"); ok && !strings.Contains(rest, "/") {
			names = append(names, rest)
		}
	}
	slices.Sort(names)
	return names, nil
}
func (f fakeReader) Readlink(path string) (string, error) {
	if target, ok := f["link:"+path]; ok {
		return target, nil
	}
	return "", &fs.PathError{Op: "readlink", Path: path, Err: fs.ErrNotExist}
}

// IPSets are the names listed under "ipsets", one a line.
func (f fakeReader) IPSets() ([]string, error) { return strings.Fields(f["ipsets"]), nil }
func (f fakeReader) Sysctl(key string) (string, error) {
	b, err := f.ReadFile("sysctl:" + key)
	return string(b), err
}

var _ host.Reader = fakeReader{}

func TestContainerdDropIn(t *testing.T) {
	l := datadir.Layout{DataDir: "/data"}
	for _, restrict := range []bool{true, false} {
		got := string(ContainerdDropIn(l, restrict))
		for _, want := range []string{
			`[plugins."io.containerd.grpc.v1.cri"]`,
			"restrict_oom_score_adj = " + map[bool]string{true: "true", false: "false"}[restrict],
			`bin_dir = "/data/cni/bin"`,
			`conf_dir = "/data/cni/net.d"`,
		} {
			if !strings.Contains(got, want) {
				t.Errorf("drop-in lacks %q:\n%s", want, got)
			}
		}
	}
}

func TestHasCapSysResource(t *testing.T) {
	tests := []struct {
		capEff string
		want   bool
		bad    bool
	}{
		{"000001ffffffffff", true, false},
		{"000001fffeffffff", false, false}, // the sandboxes without CAP_SYS_RESOURCE (bit 24)
		{"0000000001000000", true, false},
		{"zz", false, true},
	}
	for _, tt := range tests {
		got, err := HasCapSysResource(fakeReader{"/proc/self/status": "Name:\tx\nCapEff:\t" + tt.capEff + "\n"})
		if (err != nil) != tt.bad || got != tt.want {
			t.Errorf("CapEff %s: %v, %v", tt.capEff, got, err)
		}
	}
	if _, err := HasCapSysResource(fakeReader{"/proc/self/status": "Name:\tx\n"}); err == nil {
		t.Error("no CapEff line accepted")
	}
}

func TestFindXtables(t *testing.T) {
	nft, legacy, err := FindXtables(fakeReader{"/sbin/xtables-nft-multi": "", "/usr/sbin/xtables-legacy-multi": ""})
	if err != nil || nft != "/sbin/xtables-nft-multi" || legacy != "/usr/sbin/xtables-legacy-multi" {
		t.Errorf("FindXtables = %q, %q, %v", nft, legacy, err)
	}
	nft, legacy, err = FindXtables(fakeReader{"/usr/sbin/xtables-nft-multi": ""})
	if err != nil || nft != "/usr/sbin/xtables-nft-multi" || legacy != nft {
		t.Errorf("without legacy: %q, %q, %v; want nft standing in", nft, legacy, err)
	}
	if _, _, err := FindXtables(fakeReader{"/usr/sbin/xtables-legacy-multi": ""}); err == nil || !strings.Contains(err.Error(), "apt-get install iptables") {
		t.Errorf("without nft: %v", err)
	}
}

// TestNodeCommand: the first node is a joinable controller with an untainted worker; a joined
// node is a worker with its token.
func TestNodeCommand(t *testing.T) {
	l := datadir.Layout{DataDir: "/data"}
	for _, c := range []struct {
		role   string
		joined bool
		want   string
	}{
		{RoleController, false, "/data/k0s/bin/k0s controller --enable-worker --no-taints --config /data/etc/k0s.yaml --data-dir /data/k0s --status-socket /run/k0s/status.sock --iptables-mode nft --disable-components update-prober,metrics-server,konnectivity-server"},
		{"", false, "/data/k0s/bin/k0s controller --enable-worker --no-taints --config /data/etc/k0s.yaml --data-dir /data/k0s --status-socket /run/k0s/status.sock --iptables-mode nft --disable-components update-prober,metrics-server,konnectivity-server"},
		{RoleController, true, "/data/k0s/bin/k0s controller --enable-worker --no-taints --config /data/etc/k0s.yaml --token-file /data/etc/join-token --data-dir /data/k0s --status-socket /run/k0s/status.sock --iptables-mode nft --disable-components update-prober,metrics-server,konnectivity-server"},
		{RoleWorker, true, "/data/k0s/bin/k0s worker --token-file /data/etc/join-token --data-dir /data/k0s --status-socket /run/k0s/status.sock --iptables-mode nft"},
	} {
		if got := NodeCommand(l, c.role, c.joined).String(); got != c.want {
			t.Errorf("%q (joined %t) command:\n%s\nwant\n%s", c.role, c.joined, got, c.want)
		}
	}
}

func TestAdminKubeconfig(t *testing.T) {
	l := datadir.Layout{DataDir: "/data"}
	r := fakeReader{l.AdminKubeconfig(): `apiVersion: v1
kind: Config
clusters:
- name: local
  cluster: {server: "https://localhost:6443", certificate-authority-data: Y2E=}
contexts:
- name: Default
  context: {cluster: local, user: user}
current-context: Default
users:
- name: user
  user: {client-certificate-data: Y2VydA==, client-key-data: a2V5}
`}
	out, err := AdminKubeconfig(r, l, netip.MustParseAddr("192.0.2.2"), "")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"server: https://192.0.2.2:6443", "client-key-data: a2V5", "current-context: Default"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("kubeconfig lacks %q:\n%s", want, out)
		}
	}
	named, err := AdminKubeconfig(r, l, netip.MustParseAddr("192.0.2.2"), "CP_EAST")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := clientcmd.Load(named)
	if err != nil {
		t.Fatal(err)
	}
	if c := cfg.Contexts["CP_EAST"]; len(cfg.Contexts) != 1 || cfg.CurrentContext != "CP_EAST" || c == nil || c.Cluster != "CP_EAST" || c.AuthInfo != "CP_EAST" ||
		cfg.Clusters["CP_EAST"].Server != "https://192.0.2.2:6443" || string(cfg.AuthInfos["CP_EAST"].ClientKeyData) != "key" {
		t.Errorf("named kubeconfig:\n%s", named)
	}
	if _, err := AdminKubeconfig(fakeReader{}, l, netip.MustParseAddr("192.0.2.2"), ""); err == nil {
		t.Error("a missing admin.conf was not reported")
	}
}
