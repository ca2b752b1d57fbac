package adversarial_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/probekit/probekit/health"
)

// funcObserver is an observer made of two functions; nil ones do nothing.
type funcObserver struct {
	event func(health.Event)
	run   func(health.Run)
}

func (o funcObserver) ObserveEvent(ev health.Event) {
	if o.event != nil {
		o.event(ev)
	}
}

func (o funcObserver) ObserveRun(r health.Run) {
	if o.run != nil {
		o.run(r)
	}
}

// observerAttack is a hostile observer.
type observerAttack struct {
	name string
	// act is what the observer does at each call (events and runs alike);
	// n is the call's number, from 1.
	act func(rg *rig, n int32)
	// logs are substrings one log line must contain.
	logs []string
	// blocks: the observer blocks (until released) at its first call.
	blocks bool
	// eventsOnly: the observer acts in ObserveEvent only. One that probes
	// an on-request check at every run it observes feeds itself for ever
	// (see TestObserverProbingAtEveryRunAfterClose).
	eventsOnly bool
}

func observerAttacks() []observerAttack {
	every := func(do func(*rig) act) func(*rig, int32) {
		return func(rg *rig, _ int32) { do(rg)() }
	}
	once := func(do func(*rig) act) func(*rig, int32) {
		return func(rg *rig, n int32) {
			if n == 1 {
				do(rg)()
			}
		}
	}
	return []observerAttack{
		{name: "panics_at_every_call", logs: []string{"observer panicked", "adversarial-observer"},
			act: every(func(*rig) act { return panics(marker("observer")) })},
		{name: "panics_with_value_whose_String_panics", logs: []string{"observer panicked"},
			act: every(func(*rig) act { return panics(actStringer{panics("String")}) })},
		{name: "panics_with_value_whose_String_calls_Goexit", logs: []string{"observer panicked", "String or Error method failed"},
			act: once(func(*rig) act { return panics(actStringer{goexits()}) })},
		{name: "panics_with_value_whose_String_hangs", logs: []string{"observer panicked", "String or Error method failed"},
			act: once(func(rg *rig) act { return panics(actStringer{hangs(rg)}) })},
		{name: "calls_Goexit_once", logs: []string{"observer called runtime.Goexit"},
			act: once(func(*rig) act { return goexits() })},
		{name: "calls_Goexit_at_every_call", logs: []string{"observer called runtime.Goexit"},
			act: every(func(*rig) act { return goexits() })},
		{name: "blocks_at_its_first_call", blocks: true,
			act: once(func(rg *rig) act { return hangs(rg) })},
		{name: "slow_at_every_call", // a metrics backend that takes its time
			act: every(func(*rig) act { return func() { time.Sleep(2 * time.Millisecond) } })},
		{name: "reenters_the_registry", eventsOnly: true,
			act: func(rg *rig, n int32) {
				_, _ = rg.reg.Check(context.Background(), health.Liveness)
				_ = rg.reg.Latest(health.Readiness)
				if n == 1 {
					_ = rg.reg.Register(health.Liveness, "registered-by-observer", passing)
					rg.reg.AddObserver(funcObserver{})()
				}
			}},
	}
}

// attackObserver installs the hostile observer beside a second recording
// one and makes state change several times: both recorders must hear every
// change (a blocked observer delays nobody else), probes must be answered,
// the hostile observer must keep being called (once released, it hears the
// latest state), and its misbehaviour must be logged.
func attackObserver(t *testing.T, a observerAttack) {
	var calls atomic.Int32
	after := new(eventLog)
	rg := newRig(t)
	call := func() { a.act(rg, calls.Add(1)) }
	hostile := funcObserver{event: func(health.Event) { call() }, run: func(health.Run) { call() }}
	if a.eventsOnly {
		hostile.run = nil
	}
	rg.reg.AddObserver(hostile)
	rg.reg.AddObserver(after)
	var failing atomic.Bool
	rg.register(t, health.Readiness, "flapper", health.CheckFunc(func(context.Context) error {
		if failing.Load() {
			return errCheckFailed
		}
		return nil
	}))
	const flips = 6
	for i := range flips {
		failing.Store(i%2 == 0)
		want := health.StatusPass
		if failing.Load() {
			want = health.StatusFail
		}
		from, fromAfter := rg.events.mark(), after.mark()
		if res, ok := rg.result(t, health.Readiness, "flapper"); ok && res.Status != want {
			t.Fatalf("flip %d: flapper is %v, want %v", i, res.Status, want)
		}
		for _, l := range []*eventLog{rg.events, after} {
			f := from
			if l == after {
				f = fromAfter
			}
			if _, ok := l.await(f, statusOf("flapper", want)); !ok {
				t.Fatalf("flip %d: a well-behaved observer never heard flapper become %v (it must not wait for the hostile one)", i, want)
			}
		}
		if a := rg.get(t, "/readyz"); a.ok && (a.code == 200) != (want == health.StatusPass) {
			t.Errorf("flip %d: /readyz answered %d with flapper %v", i, a.code, want)
		}
	}
	rg.responsive(t, "")
	if len(a.logs) > 0 && !rg.logs.await(a.logs...) {
		t.Errorf("no log line mentions %q; the log:\n%s", a.logs, tailString(rg.logs.String()))
	}
	if a.blocks {
		rg.unblock()
	}
	// The hostile observer is still called for new events.
	before := calls.Load()
	failing.Store(!failing.Load())
	rg.result(t, health.Readiness, "flapper")
	if !eventually(settle, func() bool { return calls.Load() > before }) {
		t.Errorf("the hostile observer was called %d times and never again after misbehaving: later events are lost for it", before)
	}
}

// TestHostileObserver: a panic or Goexit in an observer is logged and
// recovered, and that observer and the others keep getting later calls; a
// blocked or slow observer delays no probe and no other observer.
func TestHostileObserver(t *testing.T) {
	for _, a := range observerAttacks() {
		t.Run(a.name, func(t *testing.T) {
			inChild(t, func(t *testing.T) { attackObserver(t, a) })
		})
	}
}

// TestObserverClosesRegistry: an observer that calls Close waits at most
// about a second (Close cannot wait for the goroutine it runs on), and the
// registry ends closed: on-request checks no longer pass.
func TestObserverClosesRegistry(t *testing.T) {
	inChild(t, func(t *testing.T) {
		start := make(chan struct{})
		closed := make(chan error, 1)
		var once atomic.Bool
		rg := newRig(t)
		rg.reg.AddObserver(funcObserver{event: func(health.Event) {
			if once.CompareAndSwap(false, true) {
				<-start
				closed <- rg.reg.Close()
			}
		}})
		rg.register(t, health.Readiness, "victim", passing, health.CheckOptions{Timeout: checkTimeout})
		rg.reg.MarkNotReady("an event for the observer")
		close(start)
		mustReturn(t, "Close called from an observer", time.Second+slack, func() { <-closed })
		if res, ok := rg.result(t, health.Readiness, "victim"); ok && !safeIs(res.Err, health.ErrClosed) {
			t.Errorf("after an observer closed the registry, the on-request check reports %v (%s); want ErrClosed", res.Status, safeText(res.Err))
		}
	})
}

// TestObserverProbingAtEveryRunAfterClose: an observer that probes the
// registry at every run it observes (a dashboard refreshing on each run)
// feeds itself while the registry lives: each probe of an on-request check
// is a run. Once Close has returned, checks that run on request report
// ErrClosed without being called, so no run is left to observe: the loop
// must end, and Close must not report the observer as still running.
//
// Found by this suite on the v1.0 engine and fixed in c20870f: refusals
// after Close were still published as runs to the observer's running
// mailbox, the loop went on for good, and Close waited its full second
// and returned "still running ... (or else observers or the logger)".
func TestObserverProbingAtEveryRunAfterClose(t *testing.T) {
	inChild(t, func(t *testing.T) {
		reg := health.New()
		var runs atomic.Int64
		reg.AddObserver(funcObserver{run: func(health.Run) {
			runs.Add(1)
			_, _ = reg.Check(context.Background(), health.Liveness)
		}})
		if err := reg.Register(health.Liveness, "loop", passing); err != nil {
			t.Fatal(err)
		}
		if _, err := reg.Check(context.Background(), health.Liveness); err != nil {
			t.Fatal(err)
		}
		if !eventually(settle, func() bool { return runs.Load() > 10 }) {
			t.Fatal("the observer never got going")
		}
		var err error
		mustReturn(t, "Close", time.Second+slack, func() { err = reg.Close() })
		if err != nil {
			t.Errorf("Close: %v (after %d runs observed): runs are still published after Close", err, runs.Load())
		}
	})
}
