package bundle

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"testing"

	"github.com/datastax/mission-control/internal/filelist"
)

// FuzzVerify: whatever bytes arrive as a bundle, Verify neither panics nor accepts anything but
// the signed manifest: an input it accepts carries the very manifest the key signed, and every
// entry it streamed is one the manifest lists.
func FuzzVerify(f *testing.F) {
	pub, key := testKey(f, 1)
	dir := f.TempDir()
	writeImage(f, dir, "small.tar", "docker.io/k8ssandra/medusa:0.24.0", "a small layer")
	var buf bytes.Buffer
	signed, err := Build(context.Background(), &buf, BuildOptions{ImagesDir: dir, Version: "v1.2.3", Arch: "amd64", Created: created, Key: key})
	if err != nil {
		f.Fatal(err)
	}
	want, _ := json.Marshal(signed)
	valid := buf.Bytes()
	f.Add(valid)
	f.Add(valid[:len(valid)/2])
	f.Add(append(bytes.Clone(valid), 0))
	f.Add([]byte{})
	f.Add([]byte("(\xb5/\xfd"))
	f.Fuzz(func(t *testing.T, data []byte) {
		listed := map[string]bool{}
		for _, file := range signed.Files {
			listed[file.Path] = true
		}
		m, err := Verify(context.Background(), bytes.NewReader(data), pub, Handlers{File: func(file filelist.File, r io.Reader) error {
			if !listed[file.Path] {
				t.Errorf("streamed %s, which the signed manifest does not list", file.Path)
			}
			_, err := io.Copy(io.Discard, r)
			return err
		}})
		if err != nil {
			return
		}
		if got, _ := json.Marshal(m); !bytes.Equal(got, want) {
			t.Errorf("accepted a manifest the key did not sign:\n%s", got)
		}
	})
}
