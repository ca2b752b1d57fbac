package proctest

import (
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// built holds what Build compiled in this test binary, so that each
// package is compiled once however many tests run it.
var built struct {
	sync.Mutex
	installed bool   // WithCleanup wraps the tests
	dir       string // made on first use; WithCleanup removes it
	bins      map[string]buildResult
}

type buildResult struct {
	path string
	err  error
}

// Build compiles the main package pkg with go build, with env added to the
// environment (say "CGO_ENABLED=0"), and returns the binary's path. pkg is
// a path relative to the test's package directory ("." for the package
// under test, "../seedapp") or an import path.
//
// The result is cached for the test binary, keyed by pkg and env: later
// calls return the same binary, or fail with the same build error. The
// binary lives outside any test's TempDir, so the TestMain must wrap its m
// in WithCleanup; Build fails the test if it does not.
func Build(t testing.TB, pkg string, env ...string) string {
	t.Helper()
	built.Lock()
	defer built.Unlock()
	if !built.installed {
		t.Fatalf("proctest: Build(%q) needs TestMain to run the tests through proctest.WithCleanup", pkg)
	}
	key := strings.Join(append([]string{pkg}, env...), "\x00")
	r, ok := built.bins[key]
	if !ok {
		r = build(pkg, env)
		if built.bins == nil {
			built.bins = make(map[string]buildResult)
		}
		built.bins[key] = r
	}
	if r.err != nil {
		t.Fatalf("proctest: %v", r.err)
	}
	return r.path
}

// build compiles pkg into a directory of its own below built.dir, named
// after the package so that messages about the process say which it is.
// built is locked.
func build(pkg string, env []string) buildResult {
	if built.dir == "" {
		dir, err := os.MkdirTemp("", "proctest-")
		if err != nil {
			return buildResult{err: err}
		}
		built.dir = dir
	}
	name := path.Base(pkg)
	if strings.HasPrefix(pkg, ".") {
		abs, err := filepath.Abs(pkg)
		if err != nil {
			return buildResult{err: err}
		}
		name = filepath.Base(abs)
	}
	bin := filepath.Join(built.dir, strconv.Itoa(len(built.bins)), name)
	// exec.Command finds go on PATH, where go test puts the go it runs.
	cmd := exec.Command("go", "build", "-o", bin, pkg)
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return buildResult{err: fmt.Errorf("go build %s: %w\n%s", pkg, err, out)}
	}
	return buildResult{path: bin}
}

// WithCleanup wraps the m of a TestMain so that Build may be used, and so
// that what it built is removed once the tests have run:
//
//	func TestMain(m *testing.M) { goleak.VerifyTestMain(proctest.WithCleanup(m)) }
//
// It composes with other wrappers of the same shape, such as
// privdb.WithCleanup.
func WithCleanup(m interface{ Run() int }) interface{ Run() int } {
	return cleanupRunner{m}
}

type cleanupRunner struct{ m interface{ Run() int } }

func (c cleanupRunner) Run() int {
	built.Lock()
	built.installed = true
	built.Unlock()
	code := c.m.Run()
	built.Lock()
	defer built.Unlock()
	if built.dir != "" {
		_ = os.RemoveAll(built.dir)
	}
	built.dir, built.bins, built.installed = "", nil, false
	return code
}
