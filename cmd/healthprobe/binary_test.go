package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/probekit/probekit/internal/prereq"
)

// built is the healthprobe binary, built once per test run the way the
// docs say (CGO_ENABLED=0, stripped) and removed by TestMain.
var built struct {
	once sync.Once
	dir  string
	path string
	out  []byte
	err  error
}

// buildBinary returns the path of the built command, skipping the test in
// -short mode or without a go tool.
func buildBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds a binary")
	}
	goTool := prereq.LookPath(t, "go", "golang-go, or Go from go.dev")
	built.once.Do(func() {
		built.dir, built.err = os.MkdirTemp("", "healthprobe-test-")
		if built.err != nil {
			return
		}
		built.path = filepath.Join(built.dir, "healthprobe")
		build := exec.Command(goTool, "build", "-trimpath", "-ldflags=-s -w", "-o", built.path, ".")
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		built.out, built.err = build.CombinedOutput()
	})
	if built.err != nil {
		t.Fatalf("building healthprobe: %v\n%s", built.err, built.out)
	}
	return built.path
}

func removeBinary() {
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
}

// requireTools skips the test, naming the first missing tool, unless every
// one of tools is in PATH. CI installs them, so nothing skips there.
func requireTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		pkg := "coreutils"
		switch tool {
		case "sh":
			pkg = "dash or bash"
		case "setsid":
			pkg = "util-linux"
		}
		prereq.LookPath(t, tool, pkg)
	}
}

// requireExecTools skips an exec test unless sh, setsid and the coreutils
// the tests run are installed.
func requireExecTools(t *testing.T) {
	t.Helper()
	requireTools(t, "sh", "setsid", "sleep", "true")
}
