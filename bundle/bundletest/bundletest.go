// Package bundletest makes small OCI image layout tarballs for tests of bundles.
package bundletest

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
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
