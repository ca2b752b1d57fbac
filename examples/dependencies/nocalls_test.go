package main

import (
	"encoding/binary"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/probekit/probekit/examples/internal/privdb"
	"github.com/probekit/probekit/examples/internal/proctest"
	"github.com/sony/gobreaker/v2"
)

// The open period of the no-calls tests is longer than in the outage tests,
// so that the test has time to send requests while the breaker is open.
const noCallsOpen = 1500 * time.Millisecond

// TestRedisNoCallsWhileBreakerOpen puts a counting proxy between the service
// and a private Redis, cuts it (every connection closed, new ones accepted
// and closed at once: a Redis that hangs up), and proves from the proxy's
// side that while the breaker is open neither the background check, nor
// probes, nor application requests reach Redis.
func TestRedisNoCallsWhileBreakerOpen(t *testing.T) {
	rs := privdb.StartRedis(t)
	px := privdb.NewProxy(t, rs.Addr())
	proveNoCalls(t, px, privdb.Cut, config{redisAddr: px.Addr()}, "redis", http.MethodPost, "/counter", nil)
}

// TestPostgresNoCallsWhileBreakerOpen does the same with a blackholed
// PostgreSQL: connections stay open and nothing is answered, so every call
// waits for its timeout.
func TestPostgresNoCallsWhileBreakerOpen(t *testing.T) {
	pg := privdb.StartPostgres(t)
	px := privdb.NewProxy(t, pg.Addr())
	dsn := fmt.Sprintf("postgres://postgres@%s/postgres?sslmode=disable", px.Addr())
	proveNoCalls(t, px, privdb.Blackhole, config{postgresDSN: dsn}, "postgres", http.MethodGet, "/now", pgCleanup)
}

// activity is what the proxy saw, by the state of the breaker at the
// moment it saw it. The state is read with Breaker.State, which changes
// before gobreaker runs a trial call: a trial counts as half-open, never as
// open.
type activity struct {
	cleanup func([]byte) bool // nil: nothing a client sends is cleanup

	mu       sync.Mutex
	byState  map[gobreaker.State]int
	openedIn map[uint64]gobreaker.State // connection: state when accepted
	first    map[uint64][]byte          // connection: first bytes sent
	bad      []string                   // sent while open, and no cleanup
	tidied   int                        // cleanup messages seen while open
}

func newActivity(cleanup func([]byte) bool) *activity {
	return &activity{cleanup: cleanup, byState: make(map[gobreaker.State]int),
		openedIn: make(map[uint64]gobreaker.State), first: make(map[uint64][]byte)}
}

func (a *activity) add(s gobreaker.State, act privdb.Activity) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.byState[s]++
	if act.Accept {
		a.openedIn[act.Conn] = s
		return
	}
	if _, ok := a.first[act.Conn]; !ok {
		a.first[act.Conn] = act.Data
	}
	if s != gobreaker.StateOpen {
		return
	}
	if a.cleanup != nil && a.cleanup(act.Data) {
		a.tidied++
		return
	}
	a.bad = append(a.bad, fmt.Sprintf("conn %d sent %q", act.Conn, act.Data))
}

func (a *activity) count(s gobreaker.State) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.byState[s]
}

// calls returns what reached the dependency while the breaker was open:
// bytes other than cleanup, and connections opened then whose first bytes
// were not cleanup (or that sent nothing: a dial is a call too).
func (a *activity) callsWhileOpen() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	bad := append([]string(nil), a.bad...)
	for c, s := range a.openedIn {
		if s != gobreaker.StateOpen {
			continue
		}
		if d := a.first[c]; d == nil || a.cleanup == nil || !a.cleanup(d) {
			bad = append(bad, fmt.Sprintf("conn %d opened, first sent %q", c, d))
		}
	}
	return bad
}

// pgCleanup reports whether a client's bytes are pgx tidying up after a call
// it made before the breaker opened: a Terminate on that call's connection,
// or a CancelRequest on a connection of its own, which asks the server to
// stop work and starts none. pgx sends them asynchronously when a call fails
// mid-flight, and pgxpool also when a connection attempt it kept making in
// the background after its caller gave up fails; against a blackholed
// server that is when the connections are finally dropped.
func pgCleanup(d []byte) bool {
	const cancelRequestCode = 80877102
	if len(d) >= 12 && binary.BigEndian.Uint32(d[4:8]) == cancelRequestCode {
		return true
	}
	return len(d) == 5 && d[0] == 'X' && binary.BigEndian.Uint32(d[1:5]) == 4
}

func proveNoCalls(t *testing.T, px *privdb.Proxy, fault privdb.Mode, cfg config, check, method, path string, cleanup func([]byte) bool) {
	t.Helper()
	logs := new(proctest.LockedBuffer)
	cfg.interval, cfg.timeout, cfg.breakerOpen = testInterval, testTimeout, noCallsOpen
	cfg.logger = slog.New(slog.NewJSONHandler(logs, nil))
	s, err := newServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s.handler)
	t.Cleanup(func() {
		hs.Close()
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
		if t.Failed() {
			t.Logf("service log:\n%s", logs.String())
		}
	})
	state := func() gobreaker.State { return s.breakerState(check) }
	seen := newActivity(cleanup)
	px.Watch(func(a privdb.Activity) { seen.add(state(), a) })

	await(t, 10*time.Second, "ready through the proxy", func() bool { return readyCode(hs.URL) == http.StatusOK })
	if code, body := do(method, hs.URL+path); code != http.StatusOK {
		t.Fatalf("%s %s through the proxy = %d %q, want 200", method, path, code, body)
	}
	closedBefore := seen.count(gobreaker.StateClosed)

	px.Set(fault)
	await(t, openBound, "breaker open", func() bool { return state() == gobreaker.StateOpen })
	// The proxy does see the calls that failed: the count below is not
	// zero for want of looking.
	if n := seen.count(gobreaker.StateClosed) - closedBefore; n == 0 {
		t.Fatalf("the proxy saw no activity between the %v and the breaker opening: it cannot prove anything", fault)
	}

	// While the fault lasts: rounds of probes of every kind and an
	// application request, until five rounds ran from start to end with
	// the breaker open. A round that finds it half-open (its trial fails
	// while the fault lasts, and it opens again) waits for it to reopen,
	// so a slow machine takes more open periods to make its rounds rather
	// than proving nothing. Every answer must be 503 whatever the state.
	const rounds = 5
	acc, byt, trials := px.Accepted(), px.Bytes(), seen.count(gobreaker.StateHalfOpen)
	var probes, refused, tries int
	stayedOpen := true // no trial in between: then the proxy must have seen nothing at all
	for ; refused < rounds && tries < 100; tries++ {
		if state() != gobreaker.StateOpen {
			stayedOpen = false
			await(t, openBound, "breaker open again after its trial", func() bool { return state() == gobreaker.StateOpen })
		}
		for _, p := range []string{"/ready", "/readyz", "/readyz/" + check, "/ready?verbose"} {
			if code, _ := get(hs.URL + p); code != http.StatusServiceUnavailable {
				t.Errorf("GET %s while the dependency is down = %d, want 503", p, code)
			}
			probes++
		}
		code, body := do(method, hs.URL+path)
		if code != http.StatusServiceUnavailable {
			t.Errorf("%s %s while the dependency is down = %d %q, want 503", method, path, code, body)
		}
		if state() == gobreaker.StateOpen {
			refused++
		} else {
			stayedOpen = false
		}
	}
	dAcc, dByt := px.Accepted()-acc, px.Bytes()-byt
	if seen.count(gobreaker.StateHalfOpen) != trials { // a trial came and went within a round
		stayedOpen = false
	}
	t.Logf("breaker open: %d probes and %d requests (%d with the breaker open before and after); the proxy saw %d connections and %d bytes",
		probes, tries, refused, dAcc, dByt)
	if refused < rounds {
		t.Fatalf("only %d of %d rounds ran with the breaker open: they prove nothing", refused, tries)
	}
	if stayedOpen && (dAcc != 0 || dByt != 0) {
		t.Errorf("while the breaker was open, the dependency received %d connections and %d bytes, want none", dAcc, dByt)
	}

	// Back: the trial call finds it, and readiness recovers.
	px.Set(privdb.Forward)
	back := await(t, scale(noCallsOpen, 1+breakerJitter)+2*checkRun+slack, "readiness recovers", func() bool {
		return readyCode(hs.URL) == http.StatusOK
	})
	t.Logf("ready again %v after the proxy forwarded again", back)
	if code, body := do(method, hs.URL+path); code != http.StatusOK {
		t.Errorf("%s %s after recovery = %d %q, want 200", method, path, code, body)
	}
	if n := seen.count(gobreaker.StateHalfOpen); n == 0 {
		t.Errorf("the proxy saw no trial call while the breaker was half-open")
	}

	// Over the whole test, whatever the timing of the window above.
	if bad := seen.callsWhileOpen(); len(bad) > 0 {
		t.Errorf("the dependency received calls while the breaker was open, want none:\n%s", strings.Join(bad, "\n"))
	}
	if seen.tidied > 0 {
		t.Logf("while the breaker was open, the client sent %d cleanup messages for calls made before it opened", seen.tidied)
	}
}
