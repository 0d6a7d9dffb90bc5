package scc_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// readmeImports are the packages a README snippet may use, by the name it
// uses them by.
var readmeImports = map[string]string{
	"context":       "context",
	"errors":        "errors",
	"fmt":           "fmt",
	"io":            "io",
	"os":            "os",
	"testing":       "testing",
	"time":          "time",
	"ews":           "github.com/sccsync/scc/ews",
	"org":           "github.com/sccsync/scc/org",
	"impersonation": "github.com/sccsync/scc/impersonation",
	"scctest":       "github.com/sccsync/scc/scctest",
}

var goBlock = regexp.MustCompile("(?s)```go\n(.*?)```")

// TestREADMESnippets compiles (go vet) every Go snippet of README.md as a
// file of its own in a scratch module that uses this repository, with the
// imports its package names call for, so that a snippet pasted into a
// program compiles: declared-and-unused variables, wrong names and wrong
// types fail here.
func TestREADMESnippets(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := goBlock.FindAllSubmatch(readme, -1)
	if len(blocks) == 0 {
		t.Fatal("README.md has no Go snippet")
	}
	root, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	gomod, err := os.ReadFile("go.mod")
	if err != nil {
		t.Fatal(err)
	}
	goVersion := regexp.MustCompile(`(?m)^go (\S+)`).FindSubmatch(gomod)
	dir := t.TempDir()
	mod := fmt.Sprintf("module readmecheck\n\ngo %s\n\nrequire github.com/sccsync/scc v0.0.0\n\nreplace github.com/sccsync/scc => %s\n", goVersion[1], root)
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(mod), 0o644); err != nil {
		t.Fatal(err)
	}
	sum, err := os.ReadFile("go.sum")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o644); err != nil {
		t.Fatal(err)
	}
	for i, b := range blocks {
		code := string(b[1])
		var imports []string
		for name, path := range readmeImports {
			if regexp.MustCompile(`\b` + name + `\.`).MatchString(code) {
				imports = append(imports, fmt.Sprintf("%q", path))
			}
		}
		src := "package readme\n\nimport (\n\t" + strings.Join(imports, "\n\t") + "\n)\n\n" + code
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("snippet%d.go", i+1)), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(goTool, "vet", ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOWORK=off")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Errorf("go vet of the README's %d Go snippets (snippetN.go is the Nth) failed: %v\n%s", len(blocks), err, out.String())
	}
}
