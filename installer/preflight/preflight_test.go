package preflight

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/datastax/mission-control/internal/host"
	"github.com/datastax/mission-control/internal/network"
)

// TestGather reads this machine. A listener this test opens on loopback must show up, held by
// this test's process.
func TestGather(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	dir := filepath.Join(t.TempDir(), "not", "yet")
	f, err := Gather(Input{Mode: "control-plane", DataDir: dir}, network.Kernel{})
	if err != nil {
		t.Fatal(err)
	}
	if f.DiskFreeBytes == 0 || f.DiskTotalBytes < f.DiskFreeBytes || f.DataDirMount.FSType == "" || f.Hostname == "" {
		t.Errorf("facts = %+v", f)
	}
	if f.DiskPath != filepath.Dir(filepath.Dir(dir)) {
		t.Errorf("disk measured at %s, want the nearest existing ancestor of %s", f.DiskPath, dir)
	}
	self := fmt.Sprintf("(pid %d)", os.Getpid())
	i := slices.IndexFunc(f.Listening, func(l Listener) bool { return l.Port == port })
	if i < 0 || !bytes.HasSuffix([]byte(f.Listening[i].Process), []byte(self)) {
		t.Errorf("listeners %v lack %d held by this process %s", f.Listening, port, self)
	}
	if len(f.Taken) == 0 {
		t.Error("no routes or addresses found")
	}
}

func TestMountOf(t *testing.T) {
	mounts := host.ParseMountinfo(`26 1 254:0 / / rw,relatime - ext4 /dev/vda rw
30 26 0:5 / /var/lib rw,nosuid - xfs /dev/vdb rw
31 30 0:6 / /var/lib/my\040data rw,noexec shared:4 - tmpfs tmpfs rw
32 26 0:7 / /var/library rw - nfs4 server:/x rw
`)
	for path, want := range map[string]host.Mount{
		"/var/lib/mission-control": {Point: "/var/lib", Root: "/", FSType: "xfs", Options: []string{"rw", "nosuid"}},
		"/var/lib/my data/mc":      {Point: "/var/lib/my data", Root: "/", FSType: "tmpfs", Options: []string{"rw", "noexec"}},
		"/var/li":                  {Point: "/", Root: "/", FSType: "ext4", Options: []string{"rw", "relatime"}},
	} {
		if got := mountOf(mounts, path); !reflect.DeepEqual(got, want) {
			t.Errorf("mountOf(%s) = %+v; want %+v", path, got, want)
		}
	}
}
