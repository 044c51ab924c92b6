// Command payload packs the runtime payload directory built by hack/runtime/build.sh into
// payload.tar.zst and its manifest payload.json.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"github.com/datastax/mission-control/runtime"
	"github.com/datastax/mission-control/runtime/payload"
)

func main() {
	dir := flag.String("dir", "", "directory to pack")
	out := flag.String("out", "", "payload file to write")
	manifestPath := flag.String("manifest", "", "manifest file to write")
	source := flag.String("source", "source", "how the runtime was obtained: source or release")
	flag.Parse()
	if err := run(*dir, *out, *manifestPath, *source); err != nil {
		fmt.Fprintln(os.Stderr, "payload:", err)
		os.Exit(1)
	}
}

func run(dir, out, manifestPath, source string) error {
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer f.Close()
	m, err := payload.Pack(dir, f, source, runtime.Versions)
	if err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(manifestPath, append(b, '\n'), 0o644)
}
