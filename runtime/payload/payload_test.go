package payload

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/datastax/mission-control/internal/filelist"
)

func packDir(t *testing.T) (string, []byte, Manifest) {
	t.Helper()
	dir, cache := t.TempDir(), t.TempDir()
	files := map[string]string{"bin/k0s": "k0s binary", "cni/bridge": "bridge plugin", "images/pause.tar": strings.Repeat("layer", 1000)}
	for name, content := range files {
		// The build packs a directory of symlinks into its cache; Pack follows them.
		target := filepath.Join(cache, filepath.Base(name))
		if err := os.WriteFile(target, []byte(content), 0o755); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	m, err := Pack(dir, &out, "source", map[string]string{"K0S_VERSION": "v1"})
	if err != nil {
		t.Fatal(err)
	}
	return dir, out.Bytes(), m
}

func TestPackExtract(t *testing.T) {
	dir, packed, m := packDir(t)
	if len(m.Files) != 3 || m.Files[0].Path != "bin/k0s" || m.Files[2].Path != "images/pause.tar" || m.Size() != 10+13+5000 {
		t.Fatalf("manifest = %+v", m)
	}
	var got []string
	err := (&Payload{Manifest: m, packed: packed}).Extract(func(f filelist.File, data []byte) error {
		want, _ := os.ReadFile(filepath.Join(dir, f.Path))
		if !bytes.Equal(data, want) || f.Mode != 0o755 {
			t.Errorf("%s: %d bytes, mode %o", f.Path, len(data), f.Mode)
		}
		got = append(got, f.Path)
		return nil
	})
	if err != nil || len(got) != 3 {
		t.Fatalf("extracted %v: %v", got, err)
	}
}

func TestPackIsReproducible(t *testing.T) {
	_, a, _ := packDir(t)
	_, b, _ := packDir(t)
	if !bytes.Equal(a, b) {
		t.Error("two packs of the same files differ")
	}
}

func TestExtractRefusesDamage(t *testing.T) {
	_, packed, m := packDir(t)
	tests := map[string]func() *Payload{
		"digest": func() *Payload {
			bad := m
			bad.Files = append(filelist.List(nil), m.Files...)
			bad.Files[1].SHA256 = strings.Repeat("0", 64)
			return &Payload{Manifest: bad, packed: packed}
		},
		"missing from the manifest": func() *Payload {
			bad := m
			bad.Files = m.Files[:2]
			return &Payload{Manifest: bad, packed: packed}
		},
		"truncated": func() *Payload { return &Payload{Manifest: m, packed: packed[:len(packed)/2]} },
		"renamed": func() *Payload {
			bad := m
			bad.Files = append(filelist.List(nil), m.Files...)
			bad.Files[0].Path = "bin/other"
			return &Payload{Manifest: bad, packed: packed}
		},
	}
	for name, p := range tests {
		t.Run(name, func(t *testing.T) {
			if err := p().Extract(func(filelist.File, []byte) error { return nil }); err == nil {
				t.Fatal("a damaged payload was extracted")
			}
		})
	}
}

func TestEmbeddedWithoutPayload(t *testing.T) {
	if _, err := Embedded(); err != ErrNone {
		t.Errorf("Embedded() = %v, want ErrNone in a build without the payload tag", err)
	}
}
