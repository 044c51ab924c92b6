// Package filelist is the list of files payloads and air-gap bundles describe in their manifests:
// each file's path, size, permissions and SHA-256, and the check of content read against it.
package filelist

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
)

// File is one file of a manifest.
type File struct {
	Path   string `json:"path"` // slash-separated, relative: bin/k0s, images/pause.tar
	Size   int64  `json:"size"`
	Mode   uint32 `json:"mode,omitempty"` // permission bits, where the file is installed with them
	SHA256 string `json:"sha256"`
}

// List is a manifest's files, in the order they are packed.
type List []File

// Size is the files' total size, uncompressed.
func (l List) Size() int64 {
	var n int64
	for _, f := range l {
		n += f.Size
	}
	return n
}

// NewHash is the hash File.SHA256 is made with.
func NewHash() hash.Hash { return sha256.New() }

// Sum is the SHA256 field of content that hashed to h.
func Sum(h hash.Hash) string { return hex.EncodeToString(h.Sum(nil)) }

// Check compares content read (size bytes, hashed by h) with f, and names both when they differ.
func (f File) Check(size int64, h hash.Hash) error {
	if sum := Sum(h); size != f.Size || sum != f.SHA256 {
		return fmt.Errorf("%d bytes, sha256 %s; the manifest says %d bytes, %s", size, short(sum), f.Size, short(f.SHA256))
	}
	return nil
}

func short(sum string) string { return sum[:min(len(sum), 12)] }
