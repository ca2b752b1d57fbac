package prereq_test

import (
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/probekit/probekit/internal/prereq"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// skipRecorder is a testing.TB whose Skipf records the message and ends
// the goroutine, as the real one does.
type skipRecorder struct {
	testing.TB
	skipped string
}

func (r *skipRecorder) Helper() {}

func (r *skipRecorder) Skipf(format string, args ...any) {
	r.skipped = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// run calls f with a recorder on a goroutine of its own and returns the
// skip message, or "" if f returned.
func run(f func(testing.TB)) string {
	r := &skipRecorder{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(r)
	}()
	<-done
	return r.skipped
}

func TestLookPathSkipsNamingTheProgramAndPackage(t *testing.T) {
	msg := run(func(tb testing.TB) {
		prereq.LookPath(tb, "probekit-no-such-program", "probekit-tools")
		t.Error("LookPath returned for a program that does not exist")
	})
	want := prereq.Prefix + "probekit-no-such-program (Debian package probekit-tools): "
	if !strings.HasPrefix(msg, want) || !strings.Contains(msg, exec.ErrNotFound.Error()) {
		t.Errorf("skip message %q, want %q followed by exec's error", msg, want)
	}
}

func TestLookPathFindsAProgram(t *testing.T) {
	// go test puts the go command it runs on PATH.
	var path string
	if msg := run(func(tb testing.TB) { path = prereq.LookPath(tb, "go", "golang-go") }); msg != "" {
		t.Fatalf("skipped: %s", msg)
	}
	if !filepath.IsAbs(path) || filepath.Base(path) != "go" {
		t.Errorf("LookPath(go) = %q, want an absolute path to go", path)
	}
}

func TestSkipMessage(t *testing.T) {
	msg := run(func(tb testing.TB) { prereq.Skip(tb, "PostgreSQL at 127.0.0.1:5432", errors.New("connection refused")) })
	if want := "missing prerequisite: PostgreSQL at 127.0.0.1:5432: connection refused"; msg != want {
		t.Errorf("skip message %q, want %q", msg, want)
	}
}
