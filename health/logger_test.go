package health_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probekit/probekit/health"
)

// misbehavingHandler is a slog.Handler that panics at its first record,
// calls runtime.Goexit at its second, and counts the rest.
type misbehavingHandler struct{ n, handled *atomic.Int32 }

func (h misbehavingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h misbehavingHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h misbehavingHandler) WithGroup(string) slog.Handler            { return h }
func (h misbehavingHandler) Handle(context.Context, slog.Record) error {
	switch h.n.Add(1) {
	case 1:
		panic("the logger broke")
	case 2:
		runtime.Goexit()
	}
	h.handled.Add(1)
	return nil
}

// The logger is called on a goroutine of the registry's: one that panics
// or calls runtime.Goexit costs no probe, and still gets later records.
func TestMisbehavingLogger(t *testing.T) {
	var n, handled atomic.Int32
	r := openRegistry(t, health.Options{Logger: slog.New(misbehavingHandler{&n, &handled})})
	mustRegister(t, r, health.Readiness, "db", failing)
	h := r.Handler(health.Readiness)
	for range 10 {
		assert.Equal(t, http.StatusServiceUnavailable, serve(h, http.MethodGet, "/readyz").Code)
	}
	r.MarkNotReady("maintenance")
	waitFor(t, "later records", func() bool { return handled.Load() >= 3 })
	require.Equal(t, health.StatusFail, report(t, r, health.Readiness).Status)
}

func TestStringMethods(t *testing.T) {
	for v, want := range map[health.Status]string{health.StatusUnknown: "unknown", health.StatusPass: "pass",
		health.StatusWarn: "warn", health.StatusFail: "fail", 9: "Status(9)"} {
		assert.Equal(t, want, v.String())
	}
	for v, want := range map[health.Group]string{health.Liveness: "liveness", health.Readiness: "readiness",
		health.Startup: "startup", 0: "Group(0)", 4: "Group(4)"} {
		assert.Equal(t, want, v.String())
	}
	for v, want := range map[health.RunResult]string{health.RunPass: "pass", health.RunWarn: "warn", health.RunFail: "fail",
		health.RunTimeout: "timeout", health.RunPanic: "panic", health.RunBreakerOpen: "breaker-open", 0: "RunResult(0)"} {
		assert.Equal(t, want, v.String())
	}
}

// New announces the first status of every switch and group to the logger.
func TestNewAnnouncesFirstStatuses(t *testing.T) {
	logs, logger := newLog()
	r := openRegistry(t, health.Options{Logger: logger})
	mustRegister(t, r, health.Readiness, "db", passing)
	// Readiness falling to fail (db is pending until its first run) is the
	// last record; the logger hears of it asynchronously, so wait for it.
	logs.wait(t, "readiness falling to fail", func(rec map[string]any) bool {
		return rec["check"] == nil && rec["group"] == "readiness" && rec["to"] == "fail"
	})
	recs, _ := logs.records(t)
	var got []string
	for _, rec := range recs {
		got = append(got, fmt.Sprintf("%v/%v %v->%v %v", rec["group"], rec["check"], rec["from"], rec["to"], rec["level"]))
	}
	require.Len(t, got, 7)
	assert.Equal(t, []string{
		"liveness/alive unknown->pass INFO",
		"readiness/ready unknown->pass INFO",
		"liveness/<nil> unknown->pass INFO",
		"readiness/<nil> unknown->pass INFO",
		"startup/<nil> unknown->pass INFO",
		"readiness/db <nil>-><nil> INFO", // waiting for its first result
	}, got[:6])
	assert.Equal(t, "readiness/<nil> pass->fail WARN", got[6], "pending until run")
}
