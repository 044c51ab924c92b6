// Package bundletest makes small OCI image layout tarballs for tests of bundles.
package bundletest

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// Image is an OCI image layout tarball tagged name whose one blob holds content.
func Image(name, content string) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	blob := []byte(content)
	digest := fmt.Sprintf("sha256:%x", sha256.Sum256(blob))
	index, _ := json.Marshal(map[string]any{"schemaVersion": 2, "manifests": []any{map[string]any{
		"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest, "size": len(blob),
		"annotations": map[string]string{"io.containerd.image.name": name}}}})
	for _, e := range []struct {
		name string
		data []byte
	}{{"oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`)}, {"index.json", index}, {"blobs/sha256/" + digest[7:], blob}} {
		_ = tw.WriteHeader(&tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.data)), Typeflag: tar.TypeReg})
		_, _ = tw.Write(e.data)
	}
	_ = tw.Close()
	return buf.Bytes()
}

// Rewrite returns a bundle with each entry passed through edit, which returns the entry's new
// name and contents, or "" to drop it: a tampered bundle, keeping its manifest and signature
// unless edit changes them.
func Rewrite(t testing.TB, bundle []byte, edit func(name string, data []byte) (string, []byte)) []byte {
	t.Helper()
	zr, err := zstd.NewReader(bytes.NewReader(bundle))
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	tr := tar.NewReader(zr)
	var out bytes.Buffer
	zw, _ := zstd.NewWriter(&out)
	tw := tar.NewWriter(zw)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(tr)
		name, data := edit(hdr.Name, data)
		if name == "" {
			continue
		}
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}
