package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/probekit/probekit/examples/internal/proctest"
	"github.com/probekit/probekit/probe"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(proctest.WithCleanup(m)) }

// The load: a bounded number of clients, each sending one request at a
// time, each request on a new connection (as a Service's proxy and the
// kubelet do), so that every request either connects and is answered or
// is refused.
const (
	clients = 4
	// lateRequests is how many requests must still arrive, and be served,
	// after readiness started failing, before the simulated endpoints
	// controller takes the pod out of rotation: endpoint removal takes
	// time to propagate, and traffic keeps coming meanwhile.
	lateRequests = 8
	// notReadyPolls is the readiness probe's failureThreshold.
	notReadyPolls = 2
	// warmUp is how many requests are served before SIGTERM is sent.
	warmUp = 10 * clients
)

var client = &http.Client{
	Timeout:   5 * time.Second,
	Transport: &http.Transport{DisableKeepAlives: true},
}

// outcome classifies one request.
type outcome int

const (
	ok      outcome = iota // 200
	refused                // connection refused: nothing listens
	notOK                  // answered, but not 200
	failed                 // connected, then an error: a lost request
)

func get(ctx context.Context, url string, trace *httptrace.ClientTrace) (outcome, int, string, error) {
	if trace != nil {
		ctx = httptrace.WithClientTrace(ctx, trace)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return failed, 0, "", err
	}
	res, err := client.Do(req)
	if err != nil {
		if errors.Is(err, syscall.ECONNREFUSED) {
			return refused, 0, "", err
		}
		return failed, 0, "", err
	}
	body, err := io.ReadAll(res.Body)
	_ = res.Body.Close()
	switch {
	case err != nil:
		return failed, res.StatusCode, "", err
	case res.StatusCode != http.StatusOK:
		return notOK, res.StatusCode, string(body), nil
	}
	return ok, res.StatusCode, string(body), nil
}

// TestSIGTERMLosesNoRequest sends a real SIGTERM to the built example under
// load, with a simulated kubelet and endpoints controller: a poller probes
// /ready and /, and once readiness has failed notReadyPolls times in a row
// and lateRequests more requests have been served, it stops routing
// traffic. The test shows that readiness fails before the listener closes,
// that liveness passes throughout the drain, that every routed request is
// answered 200 (none refused, none lost), that a long poll in flight is
// released with a response, and that connecting after the close is
// refused.
func TestSIGTERMLosesNoRequest(t *testing.T) {
	p := proctest.Start(t, proctest.Build(t, "."), "-addr", "127.0.0.1:0", "-drain-delay", "300ms", "-shutdown-timeout", "5s", "-work-time", "20ms")
	base := "http://" + p.Addr()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	waitCtx, waitCancel := context.WithTimeout(ctx, 10*time.Second)
	require.NoError(t, probe.WaitReady(waitCtx, base+"/ready"))
	waitCancel()

	var (
		log       eventLog
		notReady  atomic.Bool           // readiness has been seen failing
		routing   = make(chan struct{}) // closed when the pod leaves rotation
		stopOnce  sync.Once
		stopRoute = func() { stopOnce.Do(func() { log.add("routing stopped"); close(routing) }) }
		mu        sync.Mutex
		counts    = map[outcome]int{}
		late      int // 200s to requests sent after readiness failed
		errs      []string
		warmedUp  = make(chan struct{})
		warmOnce  sync.Once
	)

	// A long poll, in flight from before SIGTERM until the shutdown
	// releases it.
	type watchResult struct {
		o    outcome
		body string
		err  error
	}
	watchDone := make(chan watchResult, 1)
	wrote := make(chan struct{})
	closeWrote := sync.OnceFunc(func() { close(wrote) })
	go func() {
		o, _, body, err := get(ctx, base+"/watch", &httptrace.ClientTrace{
			WroteRequest: func(httptrace.WroteRequestInfo) { closeWrote() },
		})
		watchDone <- watchResult{o, body, err}
	}()
	select {
	case <-wrote:
	case w := <-watchDone:
		t.Fatalf("the long poll ended before SIGTERM: %v %q", w.err, w.body)
	}

	// The load.
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for ctx.Err() == nil {
				select {
				case <-routing:
					return
				default:
				}
				after := notReady.Load()
				o, code, body, err := get(ctx, base+"/work", nil)
				mu.Lock()
				counts[o]++
				switch {
				case o == ok && after:
					late++
				case o == notOK:
					errs = append(errs, strings.TrimSpace(http.StatusText(code)+" "+body))
				case o != ok:
					errs = append(errs, err.Error())
				}
				if counts[ok] >= warmUp {
					warmOnce.Do(func() { close(warmedUp) })
				}
				mu.Unlock()
			}
		})
	}

	// The kubelet and the endpoints controller. Once routing has stopped,
	// the listener may close at any moment, and a probe that connects in
	// that instant may fail with EOF or a reset instead of a refusal (see
	// README.md): such errors are counted apart. Before, none is allowed.
	var liveDuringDrain, liveFailures, closingErrs int
	var pollErrs []string
	polled := make(chan struct{})
	go func() {
		defer close(polled)
		failedInRow := 0
		period := time.NewTicker(5 * time.Millisecond) // the probe period
		defer period.Stop()
		probeFailed := func(err error, code int) {
			select {
			case <-routing:
				closingErrs++
			default:
				pollErrs = append(pollErrs, errors.Join(err, errors.New(http.StatusText(code))).Error())
			}
		}
		for ctx.Err() == nil {
			o, code, _, err := get(ctx, base+"/ready", nil)
			switch {
			case o == refused:
				log.add("listener closed")
				stopRoute() // a no-op unless the drain was too short
				return
			case o == notOK && code == http.StatusServiceUnavailable:
				log.add("readiness failed")
				notReady.Store(true)
				failedInRow++
			case o == ok:
				failedInRow = 0
			default:
				probeFailed(err, code)
			}
			switch o, code, _, err := get(ctx, base+"/", nil); {
			case o == ok && notReady.Load():
				liveDuringDrain++
			case o == notOK:
				liveFailures++
				probeFailed(err, code)
			case o == failed:
				probeFailed(err, code)
			}
			mu.Lock()
			lateEnough := late >= lateRequests
			mu.Unlock()
			if failedInRow >= notReadyPolls && lateEnough {
				stopRoute()
			}
			select {
			case <-period.C:
			case <-ctx.Done():
			}
		}
	}()

	select {
	case <-warmedUp:
	case <-ctx.Done():
		t.Fatal("the load never got going")
	}
	log.add("SIGTERM sent")
	p.Signal(syscall.SIGTERM)

	wg.Wait()
	<-polled
	require.NoError(t, ctx.Err(), "the test ran out of time; events: %s", log.String())

	// After the close, connecting is refused: the process is gone or no
	// longer listens.
	o, _, _, err := get(ctx, base+"/work", nil)
	assert.Equal(t, refused, o, "a request after the close: %v", err)

	w := <-watchDone
	assert.Equal(t, ok, w.o, "the long poll in flight at shutdown: %v", w.err)
	assert.Equal(t, "shutdown\n", w.body, "the long poll was released by the shutdown")

	require.NoError(t, p.Wait(10*time.Second), "exit status after SIGTERM")

	mu.Lock()
	defer mu.Unlock()
	t.Logf("requests: %d answered 200 (%d sent after readiness failed), %d refused, %d not 200, %d lost; "+
		"probes: liveness passed %d times while readiness failed, %d probe errors at the close; events: %s",
		counts[ok], late, counts[refused], counts[notOK], counts[failed], liveDuringDrain, closingErrs, log.String())
	assert.Zero(t, counts[notOK]+counts[failed], "requests that were accepted but not answered 200: %q", errs)
	assert.Zero(t, counts[refused], "requests routed to the pod after its listener closed: the drain was too short: %q", errs)
	assert.GreaterOrEqual(t, late, lateRequests, "requests sent during the drain are served")
	assert.Empty(t, pollErrs, "probe errors while the pod was in rotation")
	assert.Zero(t, liveFailures, "liveness failed during the drain")
	assert.Positive(t, liveDuringDrain, "liveness was seen passing while readiness failed")

	sigterm, notReadyAt := log.index("SIGTERM sent"), log.index("readiness failed")
	stopped, closed := log.index("routing stopped"), log.index("listener closed")
	require.True(t, sigterm >= 0 && notReadyAt >= 0 && stopped >= 0 && closed >= 0, "events: %s", log.String())
	assert.Less(t, sigterm, notReadyAt, "readiness failed before SIGTERM: %s", log.String())
	assert.Less(t, notReadyAt, stopped, "events: %s", log.String())
	assert.Less(t, stopped, closed, "the listener closed while traffic was still routed: %s", log.String())

	// The process tells the same story.
	logs := p.Output()
	drain := strings.Index(logs, "failing readiness and draining")
	closing := strings.Index(logs, "closing the listener")
	done := strings.Index(logs, "shutdown: done")
	assert.True(t, drain >= 0 && drain < closing && closing < done, "shutdown phases out of order:\n%s", logs)
}
