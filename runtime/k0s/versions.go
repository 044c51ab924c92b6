package k0s

import (
	_ "embed"
	"fmt"
	"strings"
)

//go:embed versions.env
var versionsEnv string

// Versions are the runtime's pinned versions, from versions.env.
var Versions = parseVersions(versionsEnv)

func parseVersions(env string) map[string]string {
	v := map[string]string{}
	for i, line := range strings.Split(env, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok {
			panic(fmt.Sprintf("versions.env line %d: %q is not KEY=value", i+1, line)) // a broken build
		}
		v[key] = value
	}
	return v
}

func version(key string) string {
	v, ok := Versions[key]
	if !ok {
		panic("versions.env lacks " + key) // a broken build
	}
	return v
}
