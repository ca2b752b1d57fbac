package health_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probekit/probekit/health"
	"github.com/probekit/probekit/internal/redact"
)

// waitLimit bounds every wait of these tests: far above what any of them
// needs, so that it only ends a test that would otherwise hang.
const waitLimit = 10 * time.Second

// openRegistry returns a registry that is closed (and checked to close
// cleanly) when the test ends.
func openRegistry(t testing.TB, opts ...health.Options) *health.Registry {
	t.Helper()
	r := health.New(opts...)
	t.Cleanup(func() { assert.NoError(t, r.Close()) })
	return r
}

func mustRegister(t testing.TB, r *health.Registry, g health.Group, name string, c health.Checker, opts ...health.CheckOptions) {
	t.Helper()
	require.NoError(t, r.Register(g, name, c, opts...))
}

var (
	passing = health.CheckFunc(func(context.Context) error { return nil })
	failing = health.CheckFunc(func(context.Context) error { return errors.New("broken") })
)

// report evaluates g as a probe would.
func report(t testing.TB, r *health.Registry, g health.Group, names ...string) health.Report {
	t.Helper()
	rep, err := r.Check(context.Background(), g, names...)
	require.NoError(t, err)
	return rep
}

// entry returns the entry name of rep, failing the test if it has none.
func entry(t testing.TB, rep health.Report, name string) health.CheckResult {
	t.Helper()
	for _, c := range rep.Checks {
		if c.Name == name {
			return c
		}
	}
	require.FailNow(t, "no entry "+name, "report: %+v", rep)
	return health.CheckResult{}
}

func names(rep health.Report) []string {
	var out []string
	for _, c := range rep.Checks {
		out = append(out, c.Name)
	}
	return out
}

// waitFor polls cond until it holds, for state that announces itself in
// no other way (goroutines parked in a select); waitLimit bounds the test,
// never decides it.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			require.FailNow(t, "timed out waiting for "+what)
		}
		time.Sleep(time.Millisecond)
	}
}

// goroutinesIn counts the goroutines whose stack mentions fn.
func goroutinesIn(fn string) int {
	buf := make([]byte, 1<<22)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	for _, g := range bytes.Split(buf, []byte("\n\n")) {
		if bytes.Contains(g, []byte(fn)) {
			n++
		}
	}
	return n
}

// gate is a check that blocks until released (or, if it honours its
// context, until that is done), counting its runs.
type gate struct {
	honour  bool
	release chan struct{}
	once    sync.Once
	started chan struct{} // one value per run started
	mu      sync.Mutex
	runs    int
	err     error // returned once released
	inside  atomic.Int32
}

func newGate(honour bool) *gate {
	return &gate{honour: honour, release: make(chan struct{}), started: make(chan struct{}, 1024)}
}

func (g *gate) Check(ctx context.Context) error {
	g.mu.Lock()
	g.runs++
	g.mu.Unlock()
	g.started <- struct{}{}
	g.inside.Add(1)
	defer g.inside.Add(-1)
	if g.honour {
		select {
		case <-g.release:
		case <-ctx.Done():
			return ctx.Err()
		}
	} else {
		<-g.release
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.err
}

func (g *gate) open() { g.once.Do(func() { close(g.release) }) }

func (g *gate) count() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.runs
}

func (g *gate) waitStarted(t testing.TB) {
	t.Helper()
	select {
	case <-g.started:
	case <-time.After(waitLimit):
		require.FailNow(t, "the check did not start")
	}
}

// logBuffer is the output of a JSON slog handler that tests read while
// the registry's goroutines write; changed is closed at each write.
type logBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{}
}

func newLog() (*logBuffer, *slog.Logger) {
	b := &logBuffer{changed: make(chan struct{})}
	return b, slog.New(slog.NewJSONHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	close(b.changed)
	b.changed = make(chan struct{})
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// records returns the log's records, decoded.
func (b *logBuffer) records(t testing.TB) ([]map[string]any, <-chan struct{}) {
	t.Helper()
	b.mu.Lock()
	text, changed := b.buf.String(), b.changed
	b.mu.Unlock()
	var out []map[string]any
	for line := range strings.Lines(text) {
		var rec map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &rec), line)
		out = append(out, rec)
	}
	return out, changed
}

// wait waits for a record that ok accepts and returns it.
func (b *logBuffer) wait(t testing.TB, what string, ok func(map[string]any) bool) map[string]any {
	t.Helper()
	deadline := time.NewTimer(waitLimit)
	defer deadline.Stop()
	for {
		recs, changed := b.records(t)
		for _, rec := range recs {
			if ok(rec) {
				return rec
			}
		}
		select {
		case <-changed:
		case <-deadline.C:
			require.FailNow(t, "timed out waiting for a log record: "+what, "log:\n%s", b.String())
		}
	}
}

func (b *logBuffer) count(t testing.TB, ok func(map[string]any) bool) int {
	t.Helper()
	recs, _ := b.records(t)
	n := 0
	for _, rec := range recs {
		if ok(rec) {
			n++
		}
	}
	return n
}

func msgContains(s string) func(map[string]any) bool {
	return func(rec map[string]any) bool {
		m, _ := rec["msg"].(string)
		return strings.Contains(m, s)
	}
}

var errSecret = errors.New("dial postgres://app:hunter2@db.internal:5432/x: connection refused")

// shownSecret is errSecret as the registry shows it with details and logs
// it: redacted.
var shownSecret = redact.String(errSecret.Error())

// leaks reports whether s shows anything of errSecret.
func leaks(s string) bool {
	return strings.Contains(s, "hunter2") || strings.Contains(s, "db.internal")
}

func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

var errSwitch = errors.New("switched off")

// failIf fails the test with the message when failed.
func failIf(t testing.TB, failed bool, format string, args ...any) {
	t.Helper()
	if failed {
		t.Errorf(format, args...)
	}
}
