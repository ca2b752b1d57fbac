package adversarial_test

import (
	"context"
	"math"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/probekit/probekit/health"
)

// observeAttack is a hostile value a check reports with Observe.
type observeAttack struct {
	name string
	// value is called once per test and returns what the check observes
	// in each run.
	value func(rg *rig, spawn func(func(stop <-chan struct{}))) func() any
	// after, if set, is called by the check right after each Observe call:
	// it may start one goroutine (spawn) that goes on touching the value
	// once Observe has returned, until its stop is closed.
	after func(v any, spawn func(func(stop <-chan struct{})))
	hangs bool
	// logs are substrings a log line must contain once a probe has tried
	// to show the value: the doc promises that an unencodable value is
	// logged.
	logs []string
}

func observeAttacks() []observeAttack {
	constant := func(v any) func(*rig, func(func(<-chan struct{}))) func() any {
		return func(*rig, func(func(<-chan struct{}))) func() any { return func() any { return v } }
	}
	selfMap := map[string]any{}
	selfMap["self"] = selfMap
	selfSlice := make([]any, 1)
	selfSlice[0] = selfSlice
	type node struct{ Next *node }
	loop := &node{}
	loop.Next = loop
	var deep any = 1
	for range 10000 {
		deep = []any{deep}
	}
	unencodable := []string{"victim", "observ"}
	return []observeAttack{
		{name: "MarshalJSON_panics", value: constant(actMarshaler{panics(marker("marshal"))})},
		{name: "MarshalJSON_calls_Goexit", value: constant(actMarshaler{goexits()})},
		{name: "MarshalJSON_hangs", hangs: true, value: func(rg *rig, _ func(func(<-chan struct{}))) func() any {
			return func() any { return actMarshaler{hangs(rg)} }
		}},
		{name: "MarshalText_panics", value: constant(actTextMarshaler{panics(marker("text"))})},
		{name: "map_key_MarshalText_panics", value: constant(map[panicKey]int{7: 1})},
		{name: "MarshalJSON_returns_invalid_JSON", logs: unencodable, value: constant(rawMarshaler(`{"open": [`))},
		{name: "MarshalJSON_returns_1MiB", value: constant(rawMarshaler("[" + strings.Repeat(`"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",`, 1<<15) + `1]`))},
		{name: "NaN", logs: unencodable, value: constant(math.NaN())},
		{name: "Inf", logs: unencodable, value: constant(math.Inf(-1))},
		{name: "chan", logs: unencodable, value: constant(make(chan int))},
		{name: "func", logs: unencodable, value: constant(func() {})},
		{name: "complex", logs: unencodable, value: constant(complex(1, 2))},
		{name: "map_containing_itself", logs: unencodable, value: constant(selfMap)},
		{name: "slice_containing_itself", logs: unencodable, value: constant(selfSlice)},
		{name: "pointer_cycle", logs: unencodable, value: constant(loop)},
		{name: "nested_10000_deep", value: constant(deep)},
		{name: "string_of_1MiB_invalid_UTF8", value: constant(strings.Repeat("\xff\x00\"<", 1<<18))},
		{name: "map_mutated_after_Observe_returned",
			// A fresh map per run: the check goes on updating the map it
			// observed once Observe has returned (Observe encodes at the
			// call, so that is no race); observing a map that another
			// goroutine writes during the call would be the check's own race.
			value: func(*rig, func(func(<-chan struct{}))) func() any {
				return func() any { return map[string]int{"n": 0} }
			},
			after: func(v any, spawn func(func(<-chan struct{}))) {
				m := v.(map[string]int)
				spawn(func(stop <-chan struct{}) {
					// The check's own bookkeeping, once Observe has returned.
					untilStopped(stop, func(i int) { m["n"] = i })
				})
			}},
		{name: "Observe_from_a_goroutine_that_outlives_the_run"},
	}
}

// attackObserve makes the check "victim" observe the hostile value and
// pass. Every probe must be answered with a valid body under 10 KiB; the
// verdict may be pass (the value dropped) or fail (a panicking value
// counted as a failed run), and once the check observes a plain number
// again, probes pass and show it.
func attackObserve(t *testing.T, m mode, a observeAttack) {
	rg := newRig(t)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	t.Cleanup(func() { close(stop); wg.Wait() })
	var spawned atomic.Bool
	spawn := func(fn func(<-chan struct{})) {
		if spawned.CompareAndSwap(false, true) {
			wg.Add(1)
			go func() { defer wg.Done(); fn(stop) }()
		}
	}
	var value func() any
	if a.value != nil {
		value = a.value(rg, spawn)
	}
	var hostile atomic.Bool
	hostile.Store(true)
	rg.register(t, health.Readiness, "victim", func(ctx context.Context) error {
		switch {
		case !hostile.Load():
			health.Observe(ctx, 42, "answers")
		case value == nil: // observe from a goroutine that outlives the run
			spawn(func(stop <-chan struct{}) {
				untilStopped(stop, func(i int) { health.Observe(ctx, i, "late") })
			})
		default:
			v := value()
			health.Observe(ctx, v, "hostile")
			if a.after != nil {
				a.after(v, spawn)
			}
		}
		return nil
	}, m.opts...)
	if m.background {
		// Let the first (hostile) run complete before probing.
		if _, ok := rg.events.await(0, func(ev seen) bool { return ev.check == "victim" && !safeIs(ev.err, health.ErrPending) }); !ok {
			t.Fatalf("the background check never produced a result; events: %s", rg.events.describe("victim"))
		}
	}
	for range 3 {
		if rg.probeAll(t, "victim", http.StatusOK, http.StatusServiceUnavailable); t.Failed() {
			return
		}
	}
	rg.responsive(t, "")
	if len(a.logs) > 0 && !rg.logs.await(a.logs...) {
		t.Errorf("no log line mentions %q (the doc promises that a value which cannot be encoded is logged); the log:\n%s", a.logs, tailString(rg.logs.String()))
	}
	if t.Failed() {
		return
	}
	if a.hangs {
		rg.unblock()
	}
	hostile.Store(false)
	shown := eventually(settle, func() bool {
		a := rg.get(t, "/readyz")
		return !a.ok || a.code == http.StatusOK && strings.Contains(string(a.body), `"observedValue":42`)
	})
	if !shown {
		a := rg.get(t, "/readyz")
		t.Errorf("after observing a plain number again, /readyz answers %d %.300q; want 200 showing observedValue 42", a.code, a.body)
	}
}

// TestHostileObservedValue: observed values and their MarshalJSON
// (panics, hangs, invalid JSON, huge output, NaN/Inf, unencodable values,
// cycles) never break a probe.
func TestHostileObservedValue(t *testing.T) {
	for _, a := range observeAttacks() {
		t.Run(a.name, func(t *testing.T) {
			for _, m := range modes[:2] {
				t.Run(m.name, func(t *testing.T) {
					knownBrokenRow(t)
					inChild(t, func(t *testing.T) { attackObserve(t, m, a) })
				})
			}
		})
	}
}

// untilStopped calls fn(0), fn(1), ... every 50 µs until stop is closed.
func untilStopped(stop <-chan struct{}, fn func(i int)) {
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		default:
			fn(i)
			time.Sleep(50 * time.Microsecond)
		}
	}
}
