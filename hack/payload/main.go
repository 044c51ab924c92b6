// Command payload packs the runtime payload directory built by hack/runtime/build.sh into
// payload.tar.zst and its manifest payload.json.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/datastax/mission-control/runtime/k0s"
	"github.com/datastax/mission-control/runtime/payload"
)

func main() {
	dir := flag.String("dir", "", "directory to pack")
	out := flag.String("out", "", "payload file to write")
	manifestPath := flag.String("manifest", "", "manifest file to write")
	source := flag.String("source", "source", "how the runtime was obtained: source or release")
	images := map[string]string{}
	flag.Func("image", "NAME=REF: a component's image in the payload (repeat)", func(s string) error {
		name, ref, ok := strings.Cut(s, "=")
		if !ok {
			return fmt.Errorf("%q is not NAME=REF", s)
		}
		images[name] = ref
		return nil
	})
	flag.Parse()
	if err := run(*dir, *out, *manifestPath, *source, images); err != nil {
		fmt.Fprintln(os.Stderr, "payload:", err)
		os.Exit(1)
	}
}

func run(dir, out, manifestPath, source string, images map[string]string) error {
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer f.Close()
	m, err := payload.Pack(dir, f, source, k0s.Versions)
	if err != nil {
		return err
	}
	m.Images = images
	if err := f.Close(); err != nil {
		return err
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(manifestPath, append(b, '\n'), 0o644)
}
