package adversarial_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/probekit/probekit/health"
)

// detailsHeader makes a rig's ShowDetails allow failure reasons.
const detailsHeader = "X-Adversarial-Details"

// rig is a registry under attack with benign instruments around it: a real
// slog.TextHandler writing to a buffer, an observer recording every event,
// a ShowDetails that allows reasons to requests carrying detailsHeader, and
// the handlers mounted on a ServeMux.
type rig struct {
	reg    *health.Registry
	mux    *http.ServeMux
	logs   *logBuffer
	events *eventLog
	// release is closed when the test ends, before the registry is closed:
	// hostile code that hangs waits on it, so that nothing outlives the test.
	release chan struct{}
	once    sync.Once
}

type rigConfig struct {
	noLogger bool
	logger   *slog.Logger // replaces the recording logger
	opts     health.Options
}

// newRig returns a rig; opts' non-zero fields replace the instruments'.
func newRig(t testing.TB, opts ...health.Options) *rig {
	var o health.Options
	if len(opts) > 0 {
		o = opts[0]
	}
	return newRigWith(t, rigConfig{opts: o})
}

func newRigWith(t testing.TB, cfg rigConfig) *rig {
	t.Helper()
	rg := &rig{logs: new(logBuffer), events: new(eventLog), release: make(chan struct{})}
	o := health.Options{
		ShowDetails: func(r *http.Request) bool { return r.Header.Get(detailsHeader) == "1" },
	}
	if !cfg.noLogger {
		o.Logger = slog.New(slog.NewTextHandler(rg.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		if cfg.logger != nil {
			o.Logger = cfg.logger
		}
	}
	mustReturn(t, "health.New", answerBound, func() { rg.reg = health.New(o, cfg.opts) })
	if rg.reg == nil {
		t.FailNow()
	}
	rg.reg.AddObserver(rg.events)
	rg.mux = http.NewServeMux()
	if err := rg.reg.Mount(rg.mux); err != nil {
		t.Fatalf("Mount: %v", err)
	}
	t.Cleanup(func() {
		rg.unblock()
		var err error
		mustReturn(t, "Close", 2*checkTimeout+slack, func() { err = rg.reg.Close() })
		if err != nil {
			t.Errorf("Close after the hostile code was released: %v", err)
		}
	})
	return rg
}

// unblock releases every hostile call waiting on rg.release.
func (rg *rig) unblock() { rg.once.Do(func() { close(rg.release) }) }

// hang blocks until the test releases hostile code.
func (rg *rig) hang() { <-rg.release }

func (rg *rig) register(t testing.TB, g health.Group, name string, check health.Checker, opts ...health.CheckOptions) {
	t.Helper()
	var err error
	mustReturn(t, "Register "+name, answerBound, func() { err = rg.reg.Register(g, name, check, opts...) })
	if err != nil {
		t.Fatalf("Register %s: %v", name, err)
	}
}

// passing is a check of the process's own state that always passes.
var passing = health.CheckFunc(func(context.Context) error { return nil })

// result evaluates group g as a probe would (bounded) and returns the entry
// called name.
func (rg *rig) result(t testing.TB, g health.Group, name string) (health.CheckResult, bool) {
	t.Helper()
	return entryOf(t, rg.reg, g, name)
}

// entryOf evaluates group g of reg as a probe would (bounded) and returns
// the entry called name.
func entryOf(t testing.TB, reg *health.Registry, g health.Group, name string) (health.CheckResult, bool) {
	t.Helper()
	var rep health.Report
	var err error
	e := within(answerBound, func() { rep, err = reg.Check(context.Background(), g) })
	if !e.returned {
		t.Errorf("Check(%v): %v (want an answer within %v)", g, e, answerBound)
		return health.CheckResult{}, false
	}
	if err != nil {
		t.Errorf("Check(%v): %v", g, err)
		return health.CheckResult{}, false
	}
	return find(t, rep, name)
}

// find returns the entry called name of rep.
func find(t testing.TB, rep health.Report, name string) (health.CheckResult, bool) {
	t.Helper()
	for _, c := range rep.Checks {
		if c.Name == name {
			return c, true
		}
	}
	t.Errorf("%v: no entry %q in the report", rep.Group, name)
	return health.CheckResult{}, false
}

// responsive asserts that the registry still does its job around a hostile
// check: switches return, liveness answers, and the passing bystander's own
// path passes.
func (rg *rig) responsive(t testing.TB, bystander string) {
	t.Helper()
	mustReturn(t, "MarkReady", answerBound, rg.reg.MarkReady)
	if a := rg.get(t, "/livez"); a.ok && a.code != http.StatusOK {
		t.Errorf("/livez answered %d next to a hostile readiness check, want 200", a.code)
	}
	if bystander != "" {
		if a := rg.get(t, "/readyz/"+bystander); a.ok && a.code != http.StatusOK {
			t.Errorf("/readyz/%s answered %d next to a hostile check, want 200", bystander, a.code)
		}
	}
}

// logBuffer collects log output; safe for concurrent use.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// await waits until the log contains every one of subs (case-insensitive,
// on one line).
func (b *logBuffer) await(subs ...string) bool {
	return eventually(settle, func() bool { return b.has(subs...) })
}

// has reports whether one line of the log contains every one of subs.
func (b *logBuffer) has(subs ...string) bool {
	for _, line := range strings.Split(b.String(), "\n") {
		l := strings.ToLower(line)
		all := true
		for _, s := range subs {
			all = all && strings.Contains(l, strings.ToLower(s))
		}
		if all {
			return true
		}
	}
	return false
}

// seen is an event as the recording observer keeps it. The error is kept
// as a value and never called into here: it may be hostile.
type seen struct {
	at      time.Time
	check   string
	group   health.Group
	to      health.Status
	err     error
	breaker *health.BreakerStatus
}

// eventLog is a benign observer that records every event and counts runs.
type eventLog struct {
	mu   sync.Mutex
	evs  []seen
	runs int
}

func (l *eventLog) ObserveEvent(ev health.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.evs = append(l.evs, seen{at: time.Now(), check: ev.Check, group: ev.Group, to: ev.To, err: ev.Err, breaker: ev.Breaker})
}

func (l *eventLog) ObserveRun(health.Run) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.runs++
}

func (l *eventLog) snapshot() []seen {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]seen(nil), l.evs...)
}

// mark returns a position in the log: events after it are newer.
func (l *eventLog) mark() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.evs)
}

// await waits until an event after position from matches, and returns it.
func (l *eventLog) await(from int, match func(seen) bool) (seen, bool) {
	var found seen
	ok := eventually(settle, func() bool {
		evs := l.snapshot()
		for _, ev := range evs[min(from, len(evs)):] {
			if match(ev) {
				found = ev
				return true
			}
		}
		return false
	})
	return found, ok
}

// statusOf matches status events (not breaker events) of check name.
func statusOf(name string, to health.Status) func(seen) bool {
	return func(ev seen) bool { return ev.check == name && ev.breaker == nil && ev.to == to }
}

// breakerTo matches the breaker events of check name that reach state.
func breakerTo(name, state string) func(seen) bool {
	return func(ev seen) bool { return ev.check == name && ev.breaker != nil && ev.breaker.State.String() == state }
}
