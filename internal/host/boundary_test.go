package host

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// hostChanging are the standard-library calls that change the machine. Only System may make them:
// anywhere else they would bypass dry runs and the recorder.
var hostChanging = map[string][]string{
	"os":      {"WriteFile", "Create", "CreateTemp", "OpenFile", "Mkdir", "MkdirAll", "MkdirTemp", "Remove", "RemoveAll", "Rename", "Symlink", "Link", "Chmod", "Chown", "Lchown", "Truncate", "Chtimes"},
	"exec":    {"Command", "CommandContext"},
	"syscall": {"Mount", "Unmount", "Exec", "ForkExec", "Kill", "Reboot", "Sethostname"},
	"unix":    {"Mount", "Unmount", "Exec", "Kill", "Reboot", "Sethostname"},
}

func TestOnlySystemChangesTheHost(t *testing.T) {
	root := filepath.Join("..", "..")
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || d.Name() == "hack" || strings.HasPrefix(d.Name(), ".")) && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() && path != root {
			// Another module (the Cassandra stand-ins, which run in pods) is never linked into
			// the product and never runs on the host.
			if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
				return filepath.SkipDir
			}
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		// system.go is the real host; the supervisor is the runtime's service manager (it runs k0s,
		// it does not install anything); golden rewrites testdata files under go test -update only;
		// apiservertest, a test helper, caches the test API servers' binaries in the user's cache;
		// webtest, another, saves the UI tests' screenshots among the test's artifacts.
		switch rel {
		case filepath.Join("internal", "host", "system.go"), filepath.Join("runtime", "k0s", "supervisor.go"), filepath.Join("internal", "golden", "golden.go"),
			filepath.Join("runtime", "apiservertest", "apiservertest.go"), filepath.Join("web", "webtest", "webtest.go"):
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			pkg, ok := sel.X.(*ast.Ident)
			if !ok {
				return true
			}
			for _, name := range hostChanging[pkg.Name] {
				if sel.Sel.Name == name {
					t.Errorf("%s: %s.%s changes the host outside internal/host/system.go; go through a host.Host", fset.Position(sel.Pos()), pkg.Name, name)
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
