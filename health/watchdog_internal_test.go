package health

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// The watchdog's period is a package variable read by the timers of every
// registry; shortening it in this process would race with them, so the
// test runs itself in a child process, where it is set once before any
// registry exists.
const watchdogChild = "PROBEKIT_HEALTH_WATCHDOG_CHILD"

func TestWatchdog(t *testing.T) {
	if os.Getenv(watchdogChild) == "" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestWatchdog$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(), watchdogChild+"=1")
		out, err := cmd.CombinedOutput()
		if err != nil || !bytes.Contains(out, []byte("--- PASS: TestWatchdog")) {
			t.Fatalf("the watchdog tests failed in the child process: %v\n%s", err, out)
		}
		return
	}
	watchdogPeriod = 10 * time.Millisecond
	t.Run("warns once when Mount was called and no probe came", testWatchdogUnprobed)
	t.Run("a probe in time silences it", testWatchdogProbed)
	t.Run("warns every period while readiness has never passed", testWatchdogNeverReady)
	t.Run("quiet without Mount once readiness passed", testWatchdogQuiet)
	t.Run("does nothing without a logger", func(t *testing.T) {
		r := New()
		defer r.Close()
		if r.watchdog.Stop() {
			t.Error("a registry without a logger armed the watchdog")
		}
	})
}

// logs is a JSON slog handler's output, read while the registry writes.
type logs struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// count returns how many records have a message containing msg, and the
// last of them.
func (l *logs) count(t *testing.T, msg string) (int, map[string]any) {
	t.Helper()
	text := l.String()
	n, last := 0, map[string]any(nil)
	for line := range strings.Lines(text) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatal(err)
		}
		if m, _ := rec["msg"].(string); strings.Contains(m, msg) {
			n, last = n+1, rec
		}
	}
	return n, last
}

// waitCount waits until count(msg) reaches n.
func (l *logs) waitCount(t *testing.T, msg string, n int) map[string]any {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, last := l.count(t, msg)
		if got >= n {
			return last
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %d records %q:\n%s", n, msg, l)
		}
		time.Sleep(time.Millisecond)
	}
}

func newLogged(opts Options) (*Registry, *logs) {
	l := new(logs)
	opts.Logger = slog.New(slog.NewJSONHandler(l, nil))
	return New(opts), l
}

const (
	unprobed   = "no probe has reached the registry"
	neverReady = "readiness has not passed since the registry started"
)

// periods lets several watchdog periods pass: what must not be logged
// would have been by then.
func periods(n int) { time.Sleep(time.Duration(n) * watchdogPeriod) }

// With readiness held off, the watchdog ticks every period whatever the
// timing of Mount, so these tests do not depend on Mount coming before the
// first tick.
func testWatchdogUnprobed(t *testing.T) {
	r, l := newLogged(Options{StartNotReady: "warming up"})
	if err := r.Mount(http.NewServeMux()); err != nil {
		t.Fatal(err)
	}
	rec := l.waitCount(t, unprobed, 1)
	if rec["level"] != "WARN" || rec["since"] == nil {
		t.Errorf("record: %v", rec)
	}
	n, _ := l.count(t, neverReady)
	l.waitCount(t, neverReady, n+3) // three more ticks
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if n, _ := l.count(t, unprobed); n != 1 {
		t.Errorf("logged %d times, want once", n)
	}
}

func testWatchdogProbed(t *testing.T) {
	r, l := newLogged(Options{StartNotReady: "warming up"})
	if _, err := r.Check(context.Background(), Liveness); err != nil {
		t.Fatal(err)
	}
	if err := r.Mount(http.NewServeMux()); err != nil {
		t.Fatal(err)
	}
	n, _ := l.count(t, neverReady)
	l.waitCount(t, neverReady, n+3) // three ticks after Mount
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if n, _ := l.count(t, unprobed); n != 0 {
		t.Errorf("warned of no probe after one: %d", n)
	}
}

func testWatchdogNeverReady(t *testing.T) {
	r, l := newLogged(Options{StartNotReady: "waiting for postgres://app:hunter2@db/x"})
	defer r.Close()
	if err := r.Register(Readiness, "db", CheckFunc(func(context.Context) error { return nil })); err != nil {
		t.Fatal(err)
	}
	rec := l.waitCount(t, neverReady, 3)
	failing, _ := rec["failing"].(string)
	for _, want := range []string{"ready: not ready: waiting for postgres://app:xxxxx@db/x", "db: no result yet"} {
		if !strings.Contains(failing, want) {
			t.Errorf("failing = %q, want it to name %q", failing, want)
		}
	}
	if strings.Contains(l.String(), "hunter2") {
		t.Error("the reason is not redacted")
	}
	if n, _ := l.count(t, unprobed); n != 0 {
		t.Errorf("warned of no probe without Mount: %d", n)
	}
	r.MarkReady()
	if _, err := r.Check(context.Background(), Readiness); err != nil { // readiness passes once
		t.Fatal(err)
	}
	n, _ := l.count(t, neverReady)
	periods(5)
	if after, _ := l.count(t, neverReady); after > n+1 {
		t.Errorf("still warning after readiness passed: %d more", after-n)
	}
}

func testWatchdogQuiet(t *testing.T) {
	r, l := newLogged(Options{})
	periods(5)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	for _, msg := range []string{unprobed, neverReady} {
		if n, _ := l.count(t, msg); n != 0 {
			t.Errorf("%q logged %d times", msg, n)
		}
	}
}
