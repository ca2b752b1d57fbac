package adversarial_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// envChild holds, in a child process started by inChild, the name of the
// one test whose scenario the child runs.
const envChild = "PROBEKIT_ADVERSARIAL_CHILD"

// Bounds of the suite. None of them decides a test on a fast machine: they
// are "answers within its documented timeout plus generous slack" limits,
// or deadlines that end a test which would otherwise hang.
const (
	// checkTimeout is the Timeout most hostile checks are registered with.
	checkTimeout = 200 * time.Millisecond
	// slack is what a loaded, shared 2-core machine may add to a timeout.
	slack = 2 * time.Second
	// answerBound is how long a probe may take to be answered: the largest
	// check timeout involved plus slack.
	answerBound = checkTimeout + slack
	// settle bounds waits for asynchronous effects (a background run, an
	// event reaching a hook).
	settle = 5 * time.Second
	// childLimit ends a child process that hangs.
	childLimit = 90 * time.Second
)

// inChild runs scenario in a child process, a re-execution of this test
// binary restricted to t's own test, so that a crash (an unrecovered panic
// on a library goroutine, a fatal error, a stack overflow), a hang or a
// leak fails this one test instead of the whole suite. The child must exit
// 0 having run and passed t; otherwise t fails with the child's output.
// In the child itself, inChild just runs scenario.
func inChild(t *testing.T, scenario func(t *testing.T)) {
	t.Helper()
	if os.Getenv(envChild) == t.Name() {
		scenario(t)
		return
	}
	if os.Getenv(envChild) != "" {
		t.Fatalf("inChild: nested child for %s inside child %s", t.Name(), os.Getenv(envChild))
	}
	t.Parallel() // children are separate processes: let two of them overlap
	ctx, cancel := context.WithTimeout(context.Background(), childLimit)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0],
		"-test.run="+runPattern(t.Name()), "-test.v", "-test.count=1",
		fmt.Sprintf("-test.timeout=%v", childLimit-5*time.Second))
	cmd.Env = append(os.Environ(), envChild+"="+t.Name(), childGorace())
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	passed := bytes.Contains(out, []byte("--- PASS: "+t.Name()+" ("))
	switch {
	case ctx.Err() != nil:
		t.Fatalf("child process for %s did not finish within %v; its output:\n%s", t.Name(), childLimit, tail(out))
	case err != nil:
		t.Fatalf("child process for %s failed (%v); its output:\n%s", t.Name(), err, tail(out))
	case !passed:
		t.Fatalf("child process for %s exited 0 but did not pass the test (skipped or not run); its output:\n%s", t.Name(), tail(out))
	}
}

// childGorace returns the GORACE setting for a child: the parent's, with
// the race detector's one-second sleep at exit turned off (it would cost a
// second per child; a child's races are reported before it exits anyway).
func childGorace() string {
	g := os.Getenv("GORACE")
	if !strings.Contains(g, "atexit_sleep_ms") {
		g = strings.TrimSpace(g + " atexit_sleep_ms=0")
	}
	return "GORACE=" + g
}

// runPattern returns the -test.run pattern that selects exactly the test
// (or subtest) called name.
func runPattern(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	return strings.Join(parts, "/")
}

// tail keeps the end of a child's output, where the panic or failure is.
func tail(out []byte) string {
	const keep = 24 << 10
	if len(out) > keep {
		return "…" + string(out[len(out)-keep:])
	}
	return string(out)
}

// ended is how a call made by within ended.
type ended struct {
	returned bool          // fn returned normally
	panicked any           // non-nil if fn panicked
	goexit   bool          // fn called runtime.Goexit
	timedOut bool          // fn was still running at the bound
	elapsed  time.Duration // until fn ended or the bound
	done     chan struct{} // closed when fn has ended, whenever that is
}

func (e ended) String() string {
	switch {
	case e.timedOut:
		return fmt.Sprintf("still running after %v", e.elapsed.Round(time.Millisecond))
	case e.panicked != nil:
		return fmt.Sprintf("panicked after %v: %v", e.elapsed.Round(time.Millisecond), e.panicked)
	case e.goexit:
		return fmt.Sprintf("called runtime.Goexit after %v", e.elapsed.Round(time.Millisecond))
	}
	return fmt.Sprintf("returned after %v", e.elapsed.Round(time.Millisecond))
}

// within calls fn on a goroutine of its own and waits up to bound for it to
// end. A panic or Goexit in fn is caught and reported, never propagated, so
// that a library that lets user code escape fails the test rather than
// crashing it. A call still running at the bound keeps running; the caller
// must release whatever it hangs on (and may wait on done).
func within(bound time.Duration, fn func()) ended {
	done := make(chan struct{})
	var e ended
	start := time.Now()
	go func() {
		normal := false
		defer close(done)
		defer func() {
			if v := recover(); v != nil {
				e.panicked = v
			} else if !normal {
				e.goexit = true
			}
		}()
		fn()
		normal = true
	}()
	t := time.NewTimer(bound)
	defer t.Stop()
	select {
	case <-done:
		e.returned = e.panicked == nil && !e.goexit
	case <-t.C:
		return ended{timedOut: true, elapsed: time.Since(start), done: done}
	}
	e.elapsed = time.Since(start)
	e.done = done
	return e
}

// mustReturn fails t unless fn returns normally within bound.
func mustReturn(t testing.TB, what string, bound time.Duration, fn func()) {
	t.Helper()
	if e := within(bound, fn); !e.returned {
		t.Errorf("%s: %v (want it to return within %v)", what, e, bound)
	}
}

// eventually polls cond every few milliseconds until it holds or bound
// passes, and reports whether it held.
func eventually(bound time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(bound)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
}
