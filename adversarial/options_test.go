package adversarial_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/probekit/probekit/health"
)

// "Every value a user can pass is either accepted with a documented
// meaning or refused at Register/New with ErrInvalidOption: huge durations
// must not overflow into busy loops, odd breaker settings must not panic,
// and a timeout is always reported as ErrTimeout."

// window is how long a test counts the runs of checks with odd options.
const window = 300 * time.Millisecond

// optionCase is one odd option value, with the most runs a check with it
// may make in window (a busy loop makes thousands).
type optionCase struct {
	name    string
	opts    []health.CheckOption
	maxRuns int
}

func optionCases() []optionCase {
	const huge, hugest = time.Duration(math.MaxInt64 - 1), time.Duration(math.MaxInt64)
	every50 := health.Every(50 * time.Millisecond)
	const at50 = 1 + int(window/(45*time.Millisecond)) + 1 // Every(50ms) with the default ±10% jitter
	cases := []optionCase{
		{name: "Every_1ms", opts: []health.CheckOption{health.Every(time.Millisecond)}, maxRuns: 2 * int(window/time.Millisecond)},
		{name: "Every_1ms_Jitter_0.5", opts: []health.CheckOption{health.Every(time.Millisecond), health.Jitter(0.5)}, maxRuns: 3 * int(window/time.Millisecond)},
		{name: "Jitter_0.5", opts: []health.CheckOption{every50, health.Jitter(0.5)}, maxRuns: 1 + int(window/(25*time.Millisecond)) + 1},
		{name: "Jitter_smallest", opts: []health.CheckOption{every50, health.Jitter(math.SmallestNonzeroFloat64)}, maxRuns: at50},
		{name: "Jitter_negative_zero", opts: []health.CheckOption{every50, health.Jitter(math.Copysign(0, -1))}, maxRuns: at50},
	}
	for _, d := range []struct {
		name string
		d    time.Duration
	}{
		{"0", 0}, {"minus_1ns", -1}, {"1ns", 1}, {"999us", 999 * time.Microsecond}, {"MinInt64", math.MinInt64},
		{"2_pow_62", 1 << 62}, {"9e18", 9e18}, {"MaxInt64_minus_1", huge}, {"MaxInt64", hugest},
	} {
		// A huge interval: one run (at once), then none in the window. A
		// jittered wait that overflows int64 comes out negative: a timer that
		// fires at once, every time.
		cases = append(cases,
			optionCase{name: "Every_" + d.name, opts: []health.CheckOption{health.Every(d.d)}, maxRuns: 1},
			optionCase{name: "Every_" + d.name + "_Jitter_0.5", opts: []health.CheckOption{health.Every(d.d), health.Jitter(0.5)}, maxRuns: 1},
			optionCase{name: "Timeout_" + d.name, opts: []health.CheckOption{every50, health.Timeout(d.d)}, maxRuns: at50},
			optionCase{name: "InitialDelay_" + d.name, opts: []health.CheckOption{every50, health.InitialDelay(d.d)}, maxRuns: delayed(d.d, at50)},
		)
	}
	for _, f := range []struct {
		name string
		f    float64
	}{
		{"NaN", math.NaN()}, {"Inf", math.Inf(1)}, {"minus_Inf", math.Inf(-1)}, {"minus_0.1", -0.1},
		{"0.5000001", 0.5000001}, {"1", 1}, {"MaxFloat64", math.MaxFloat64},
	} {
		cases = append(cases, optionCase{name: "Jitter_" + f.name, opts: []health.CheckOption{every50, health.Jitter(f.f)}, maxRuns: at50})
	}
	return cases
}

// delayed is how often a check with InitialDelay(d) may run in window: not
// at all if d is longer.
func delayed(d time.Duration, runs int) int {
	if d >= window {
		return 0
	}
	return runs
}

// TestOddOptionValues registers ten checks with each odd value: Register
// must accept it or refuse it with ErrInvalidOption (never panic, never
// another error), and accepted checks must not run more often than their
// interval allows: huge values must not overflow into a busy loop.
func TestOddOptionValues(t *testing.T) {
	for _, c := range optionCases() {
		t.Run(c.name, func(t *testing.T) {
			knownBrokenRow(t)
			reg := health.New()
			var runs atomic.Int64
			accepted := 0
			for i := range 10 {
				var err error
				e := within(answerBound, func() {
					err = reg.Register(health.Liveness, fmt.Sprintf("c%d", i), func(context.Context) error { runs.Add(1); return nil }, c.opts...)
				})
				switch {
				case !e.returned:
					t.Fatalf("Register: %v", e)
				case err == nil:
					accepted++
				case !errors.Is(err, health.ErrInvalidOption):
					t.Fatalf("Register refused the value with %v, want an error matching ErrInvalidOption", err)
				}
			}
			time.Sleep(window)
			n := runs.Load()
			mustReturn(t, "Close", answerBound, func() { _ = reg.Close() })
			if limit := int64(accepted * c.maxRuns); n > limit {
				t.Errorf("%d checks ran %d times in %v, want at most %d: a busy loop", accepted, n, window, limit)
			}
			t.Logf("accepted by %d of 10 Register calls; %d runs in %v", accepted, n, window)
		})
	}
}

// TestZeroOptions: the zero CheckOption is refused with ErrInvalidOption;
// the zero Option is ignored.
func TestZeroOptions(t *testing.T) {
	var zeroOpt health.Option
	var zeroCheckOpt health.CheckOption
	var reg *health.Registry
	mustReturn(t, "New(zero Option)", answerBound, func() { reg = health.New(zeroOpt) })
	if reg == nil {
		return
	}
	defer func() { _ = reg.Close() }()
	err := reg.Register(health.Readiness, "db", func(context.Context) error { return nil }, zeroCheckOpt)
	if !errors.Is(err, health.ErrInvalidOption) {
		t.Errorf("Register with the zero CheckOption: %v, want ErrInvalidOption", err)
	}
}

// TestOddArguments: invalid groups, statuses and nil contexts give errors
// (or documented answers), never panics or hangs.
func TestOddArguments(t *testing.T) {
	reg := health.New()
	defer func() { _ = reg.Close() }()
	if err := reg.Register(health.Readiness, "db", func(context.Context) error { return nil }); err != nil {
		t.Fatal(err)
	}
	ok := func(context.Context) error { return nil }
	for _, g := range []health.Group{0, 4, 255} {
		if err := reg.Register(g, "x", ok); !errors.Is(err, health.ErrInvalidGroup) {
			t.Errorf("Register(Group(%d)): %v, want ErrInvalidGroup", g, err)
		}
		if _, err := reg.Check(context.Background(), g); !errors.Is(err, health.ErrInvalidGroup) {
			t.Errorf("Check(Group(%d)): %v, want ErrInvalidGroup", g, err)
		}
		req := newRequest(t, http.MethodGet, "/")
		if a := serve(t, reg.Handler(g), req, answerBound); a.ok && a.code != http.StatusInternalServerError {
			t.Errorf("Handler(Group(%d)) answered %d, want the documented 500", g, a.code)
		}
	}
	for _, s := range []health.Status{health.StatusUnknown, 4, 255} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		var err error
		mustReturn(t, fmt.Sprintf("WaitFor(Status(%d))", s), answerBound, func() { _, err = reg.WaitFor(ctx, health.Readiness, s) })
		cancel()
		if err == nil {
			t.Errorf("WaitFor(Status(%d)) returned no error: a group is never %v", s, s)
		}
	}
	for _, name := range []string{"", strings.Repeat("a", 64), "-a", "a-", "a/b", "a b", "ä", "ready", "liveness", "a\x00"} {
		if err := reg.Register(health.Readiness, name, ok); !errors.Is(err, health.ErrInvalidName) {
			t.Errorf("Register(%q): %v, want ErrInvalidName", name, err)
		}
	}
}

// TestNilContext: a nil context is a caller's bug, but Check, WaitFor and
// Drain must answer it with an error (or treat it as Background), not
// panic in the caller's goroutine.
func TestNilContext(t *testing.T) {
	reg := health.New()
	defer func() { _ = reg.Close() }()
	if err := reg.Register(health.Readiness, "db", func(context.Context) error { return nil }); err != nil {
		t.Fatal(err)
	}
	var nilCtx context.Context
	mustReturn(t, "Check(nil context)", answerBound, func() { _, _ = reg.Check(nilCtx, health.Readiness) })
	mustReturn(t, "WaitFor(nil context)", answerBound, func() { _, _ = reg.WaitFor(nilCtx, health.Readiness, health.StatusPass) })
	mustReturn(t, "Drain(nil context)", answerBound, func() { _ = reg.Drain(nilCtx, time.Millisecond) })
}
