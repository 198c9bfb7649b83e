// Package layering checks the import rule of docs/architecture.md on every package of the
// server, from the source (non-test files), so a shortcut across layers fails the build's tests
// instead of waiting for a reviewer to notice.
package layering

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/shiliu/shiliu/server/"

// layer of a package (its path below server/): higher layers may import lower ones, never the
// reverse. Domain packages may import each other (Go refuses cycles).
func layer(pkg string) int {
	switch {
	case strings.HasPrefix(pkg, "platform/"):
		return 0
	case strings.HasPrefix(pkg, "cmd/"):
		return 4
	case pkg == "app" || pkg == "apitest" || pkg == "demo":
		// demo writes the demo county through an opened App, as seed-demo's wiring.
		return 3
	case pkg == "httpapi" || pkg == "console":
		return 2
	}
	return 1 // domain: roster, record, notify, meeting, auth, access, apperr, config, migrations…
}

var layerName = []string{"platform", "domain", "transport (httpapi, console)", "wiring (app, apitest, demo)", "command (cmd)"}

// imports maps each server package (path below server/) to what its non-test files import.
func imports(t *testing.T) map[string][]string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	fset := token.NewFileSet()
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); n == "node_modules" || n == "web" || n == "dist" || n == "testdata" || strings.HasPrefix(n, ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		pkg := filepath.ToSlash(rel)
		for _, s := range f.Imports {
			p, _ := strconv.Unquote(s.Path.Value)
			out[pkg] = append(out[pkg], p)
		}
		if _, ok := out[pkg]; !ok {
			out[pkg] = nil
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) < 20 {
		t.Fatalf("found only %d packages under %s: the walk is wrong", len(out), root)
	}
	return out
}

func TestImportsFollowTheLayers(t *testing.T) {
	var broken []string
	for pkg, imps := range imports(t) {
		from := layer(pkg)
		for _, imp := range imps {
			switch {
			case strings.HasPrefix(imp, module):
				to := strings.TrimPrefix(imp, module)
				if layer(to) > from {
					broken = append(broken, pkg+" ("+layerName[from]+") imports "+to+" ("+layerName[layer(to)]+")")
				}
				if from == 0 && layer(to) != 0 {
					broken = append(broken, pkg+" is a platform package and imports project code "+to)
				}
			case imp == "github.com/gin-gonic/gin" || strings.HasPrefix(imp, "github.com/gin-gonic/"):
				if from < 2 {
					broken = append(broken, pkg+" ("+layerName[from]+") imports Gin: HTTP belongs in httpapi")
				}
			case imp == "gorm.io/gorm" || strings.HasPrefix(imp, "gorm.io/"):
				// Transport renders, it does not query: a handler with a *gorm.DB bypasses the
				// service and its scope.
				if from == 2 {
					broken = append(broken, pkg+" (transport) imports "+imp+": go through a domain service")
				}
			}
		}
	}
	sort.Strings(broken)
	for _, b := range broken {
		t.Error(b)
	}
}

// The rule itself: a package placed in the wrong layer would pass the check above silently, so
// the known packages are pinned to theirs.
func TestLayersOfKnownPackages(t *testing.T) {
	pkgs := imports(t)
	for pkg, want := range map[string]int{
		"platform/database": 0, "platform/wechat": 0, "roster": 1, "notify": 1, "outbox": 1, "auth": 1,
		"httpapi": 2, "console": 2, "app": 3, "cmd/shiliu": 4,
	} {
		if _, ok := pkgs[pkg]; !ok {
			t.Errorf("package %s not found: update this test with the move", pkg)
		}
		if got := layer(pkg); got != want {
			t.Errorf("%s is in layer %s, want %s", pkg, layerName[got], layerName[want])
		}
	}
	if _, err := os.Stat("../../docs/architecture.md"); err != nil {
		t.Errorf("the rule is written in docs/architecture.md: %v", err)
	}
}
