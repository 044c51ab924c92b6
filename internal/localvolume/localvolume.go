// Package localvolume lays out the node-local volumes of the platform's provisioner
// (local-path-provisioner) under the data dir's storage directory: one directory per volume,
// named after its claim's namespace and name and its PersistentVolume, and beside it a record of
// the volume (its PV, claim, node, size) so that a later install can find and adopt it. The
// provisioner's helper pod (cmd/volume-helper) creates and removes them; reset and status read
// them.
package localvolume

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/datastax/mission-control/internal/host"
)

// PathPattern is the StorageClass's pathPattern (Go template over the PV's name and its claim's
// metadata): a volume's directory names its namespace, claim and PV. Kubernetes names hold no
// '_', so the three parts read back unambiguously.
const PathPattern = "{{ .PVC.Namespace }}_{{ .PVC.Name }}_{{ .PVName }}"

// RecordSuffix ends the name of a volume's record, beside its directory.
const RecordSuffix = ".volume.json"

// Record is what is known of a volume when it is made: enough to recreate its PV.
type Record struct {
	PV        string    `json:"pv"`
	Namespace string    `json:"namespace"`
	Claim     string    `json:"claim"`
	Node      string    `json:"node,omitempty"`
	Path      string    `json:"path"`
	SizeBytes int64     `json:"sizeBytes"`
	Created   time.Time `json:"created"`
}

// Volume is a volume found in the storage directory, with the bytes it holds.
type Volume struct {
	Record
	UsedBytes int64 `json:"usedBytes"`
}

// Request is what the provisioner asks of its helper for one volume.
type Request struct {
	Path      string // the volume's directory: STORAGE/NAMESPACE_CLAIM_PV
	Mode      string // the claim's volumeMode
	SizeBytes int64
	Node      string
}

// parse splits a volume directory's name into its claim's namespace, name and PV.
func parse(name string) (namespace, claim, pv string, err error) {
	parts := strings.Split(name, "_")
	if len(parts) != 3 || slices.Contains(parts, "") {
		return "", "", "", fmt.Errorf("volume directory %q is not NAMESPACE_CLAIM_PV (the StorageClass's pathPattern)", name)
	}
	return parts[0], parts[1], parts[2], nil
}

// checkPath refuses a path that is not a volume directory directly inside an absolute storage
// directory: the helper removes what it is given.
func checkPath(path string) (string, error) {
	clean := filepath.Clean(path)
	if !filepath.IsAbs(clean) || clean != path || filepath.Dir(clean) == clean || filepath.Dir(clean) == "/" {
		return "", fmt.Errorf("volume path %q is not an absolute path inside a storage directory", path)
	}
	return filepath.Base(clean), nil
}

// Setup makes the volume's directory, writable by any user (the database runs as its own user),
// and writes its record beside it.
func Setup(ctx context.Context, h host.Host, req Request, now time.Time) error {
	name, err := checkPath(req.Path)
	if err != nil {
		return err
	}
	if req.Mode != "" && req.Mode != "Filesystem" {
		return fmt.Errorf("volume %s: volumeMode %s is not supported: local volumes are directories (volumeMode: Filesystem)", name, req.Mode)
	}
	namespace, claim, pv, err := parse(name)
	if err != nil {
		return err
	}
	if err := h.MkdirAll(ctx, req.Path, 0o777); err != nil {
		return err
	}
	rec, err := json.MarshalIndent(Record{PV: pv, Namespace: namespace, Claim: claim, Node: req.Node, Path: req.Path, SizeBytes: req.SizeBytes, Created: now.UTC()}, "", "  ")
	if err != nil {
		return err
	}
	return h.WriteFile(ctx, req.Path+RecordSuffix, append(rec, '\n'), 0o644)
}

// Teardown removes the volume's directory and its record.
func Teardown(ctx context.Context, h host.Host, path string) error {
	if _, err := checkPath(path); err != nil {
		return err
	}
	if err := h.RemoveAll(ctx, path); err != nil {
		return err
	}
	return h.RemoveAll(ctx, path+RecordSuffix)
}

// List returns the volumes in a storage directory (none when it does not exist), with the bytes
// each holds. A directory without a record is listed from its name.
func List(r host.Reader, storageDir string) ([]Volume, error) {
	names, err := r.ReadDir(storageDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list the volumes in %s: %w", storageDir, err)
	}
	var out []Volume
	for _, name := range names {
		if strings.HasSuffix(name, RecordSuffix) || strings.HasPrefix(name, ".") {
			continue
		}
		path := filepath.Join(storageDir, name)
		var v Volume
		if data, err := r.ReadFile(path + RecordSuffix); err == nil {
			if err := json.Unmarshal(data, &v.Record); err != nil {
				return nil, fmt.Errorf("volume record %s%s: %w", path, RecordSuffix, err)
			}
		} else if v.Namespace, v.Claim, v.PV, err = parse(name); err != nil {
			continue // not a volume of ours
		}
		v.Path = path
		if v.UsedBytes, err = Usage(r, path); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// Usage is the bytes of the regular files under path, links not followed (none when it does not
// exist).
func Usage(r host.Reader, path string) (int64, error) {
	var total int64
	var walk func(string) error
	walk = func(p string) error {
		if _, err := r.Readlink(p); err == nil {
			return nil // a link counts as nothing, and is never followed out of the volume
		}
		f, err := r.Open(p)
		if err != nil {
			return err
		}
		st, err := f.Stat()
		f.Close()
		if err != nil {
			return err
		}
		if !st.IsDir() {
			if st.Mode().IsRegular() {
				total += st.Size()
			}
			return nil
		}
		names, err := r.ReadDir(p)
		if err != nil {
			return err
		}
		for _, n := range names {
			if err := walk(filepath.Join(p, n)); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return 0, nil
		}
		return 0, fmt.Errorf("measure %s: %w", path, err)
	}
	return total, nil
}
