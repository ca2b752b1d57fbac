package health_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
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
func openRegistry(t testing.TB, opts ...health.Option) *health.Registry {
	t.Helper()
	r := health.New(opts...)
	t.Cleanup(func() { assert.NoError(t, r.Close()) })
	return r
}

func mustRegister(t testing.TB, r *health.Registry, g health.Group, name string, fn health.CheckFunc, opts ...health.CheckOption) {
	t.Helper()
	require.NoError(t, r.Register(g, name, fn, opts...))
}

// probeServer serves a registry's handlers (mounted with Mount on a fresh
// ServeMux) over a real loopback socket.
type probeServer struct {
	t      testing.TB
	url    string
	client *http.Client
}

func serveProbes(t testing.TB, r *health.Registry) *probeServer {
	t.Helper()
	mux := http.NewServeMux()
	require.NoError(t, r.Mount(mux))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	client := srv.Client()
	// A probe answer is never a redirect; make one visible instead of
	// following it.
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &probeServer{t: t, url: srv.URL, client: client}
}

type probeResponse struct {
	code   int
	header http.Header
	body   string
	length int64 // Content-Length as the client saw it
}

// try sends one request; headers are given as "Name: value" strings. It is
// safe to call from several goroutines.
func (p *probeServer) try(method, target string, headers ...string) (probeResponse, error) {
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, p.url+target, nil)
	if err != nil {
		return probeResponse{}, err
	}
	for _, h := range headers {
		if h == "" {
			continue
		}
		k, v, _ := strings.Cut(h, ":")
		req.Header.Set(k, strings.TrimSpace(v))
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return probeResponse{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return probeResponse{}, err
	}
	return probeResponse{code: resp.StatusCode, header: resp.Header, body: string(body), length: resp.ContentLength}, nil
}

func (p *probeServer) do(method, target string, headers ...string) probeResponse {
	p.t.Helper()
	resp, err := p.try(method, target, headers...)
	require.NoError(p.t, err)
	return resp
}

func (p *probeServer) get(target string, headers ...string) probeResponse {
	p.t.Helper()
	return p.do(http.MethodGet, target, headers...)
}

// healthJSON mirrors the documented application/health+json body; it is
// decoded with unknown fields disallowed, so any field the docs do not
// promise fails the test.
type healthJSON struct {
	Status string                 `json:"status"`
	Checks map[string][]entryJSON `json:"checks"`
	Notes  []string               `json:"notes"`
}

type entryJSON struct {
	Status           string          `json:"status"`
	Time             string          `json:"time"`
	Duration         string          `json:"duration"`
	ObservedValue    json.RawMessage `json:"observedValue"`
	ObservedUnit     string          `json:"observedUnit"`
	Breaker          string          `json:"breaker"`
	LastSuccess      string          `json:"lastSuccess"`
	SinceLastSuccess string          `json:"sinceLastSuccess"`
	Output           string          `json:"output"`
}

func decodeHealth(t testing.TB, resp probeResponse) healthJSON {
	t.Helper()
	require.Equal(t, "application/health+json", resp.header.Get("Content-Type"), "body: %s", resp.body)
	dec := json.NewDecoder(strings.NewReader(resp.body))
	dec.DisallowUnknownFields()
	var out healthJSON
	require.NoError(t, dec.Decode(&out), "body: %s", resp.body)
	require.ErrorIs(t, dec.Decode(new(any)), io.EOF, "trailing data after the JSON body: %s", resp.body)
	for name, list := range out.Checks {
		require.Len(t, list, 1, "check %s", name)
		e := list[0]
		require.Contains(t, []string{"pass", "warn", "fail"}, e.Status, "check %s", name)
		for _, ts := range []string{e.Time, e.LastSuccess} {
			if ts != "" {
				_, err := time.Parse(time.RFC3339, ts)
				require.NoError(t, err, "check %s", name)
			}
		}
		if e.Duration != "" {
			_, err := time.ParseDuration(e.Duration)
			require.NoError(t, err, "check %s", name)
		}
	}
	return out
}

// only returns the single entry name of a decoded body.
func (h healthJSON) only(t testing.TB, name string) entryJSON {
	t.Helper()
	list, ok := h.Checks[name]
	require.True(t, ok, "no entry %q in %v", name, h.Checks)
	return list[0]
}

// lockedBuffer is an io.Writer for a slog handler that tests read while the
// registry's goroutines write.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// eventLog records the events a registry announces, for OnStatusChange.
type eventLog struct {
	mu     sync.Mutex
	events []health.Event
	notify chan struct{} // closed and replaced at each event
}

func newEventLog() *eventLog { return &eventLog{notify: make(chan struct{})} }

func (l *eventLog) hook(ev health.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, ev)
	close(l.notify)
	l.notify = make(chan struct{})
}

// waitUntil waits, at most waitLimit, until ok holds of the events so far,
// and returns them.
func (l *eventLog) waitUntil(t testing.TB, what string, ok func([]health.Event) bool) []health.Event {
	t.Helper()
	deadline := time.NewTimer(waitLimit)
	defer deadline.Stop()
	for {
		l.mu.Lock()
		evs, notify := append([]health.Event(nil), l.events...), l.notify
		l.mu.Unlock()
		if ok(evs) {
			return evs
		}
		select {
		case <-notify:
		case <-deadline.C:
			require.FailNow(t, "timed out waiting for "+what, "events: %v", evs)
		}
	}
}

// breakerChanges returns the breaker transitions among evs for check name.
func breakerChanges(evs []health.Event, name string) []string {
	var out []string
	for _, ev := range evs {
		if ev.Breaker != nil && ev.Check == name {
			out = append(out, ev.Breaker.From.String()+"->"+ev.Breaker.To.String())
		}
	}
	return out
}

// dependency is a real HTTP server standing in for something a service
// depends on. It counts the requests it receives; the test decides whether
// it answers 200, 500, or hangs until released.
type dependency struct {
	url      string
	calls    atomic.Int64
	down     atomic.Bool
	hang     atomic.Bool
	release  chan struct{}
	released sync.Once
	client   *http.Client
}

func newDependency(t testing.TB) *dependency {
	t.Helper()
	d := &dependency{release: make(chan struct{})}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.calls.Add(1)
		if d.hang.Load() {
			<-d.release // deliberately deaf to the client going away
		}
		if d.down.Load() {
			http.Error(w, "down", http.StatusInternalServerError)
			return
		}
		_, _ = io.WriteString(w, "ok")
	}))
	// A fresh connection per call: no idle connection goroutines survive a
	// test, and a call is a call even when the previous one was abandoned.
	tr := &http.Transport{DisableKeepAlives: true}
	d.client = &http.Client{Transport: tr}
	d.url = srv.URL
	t.Cleanup(func() {
		srv.Close()
		tr.CloseIdleConnections()
	})
	t.Cleanup(d.unblock) // runs first: hung handlers must return for srv.Close
	return d
}

func (d *dependency) unblock() { d.released.Do(func() { close(d.release) }) }

// get calls the dependency with ctx.
func (d *dependency) get(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.url, nil)
	if err != nil {
		return err
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("dependency answered %s", resp.Status)
	}
	return nil
}

// check is a well-behaved dependency check: it honours ctx. runs counts its
// invocations.
func (d *dependency) check(runs *atomic.Int64) health.CheckFunc {
	return func(ctx context.Context) error {
		runs.Add(1)
		return d.get(ctx)
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

// waitResult polls (at most waitLimit) group g until entry name satisfies ok,
// for background checks whose runs the test cannot observe directly.
func waitResult(t testing.TB, r *health.Registry, g health.Group, name string, ok func(health.CheckResult) bool) health.CheckResult {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		rep, err := r.Check(context.Background(), g)
		require.NoError(t, err)
		for _, c := range rep.Checks {
			if c.Name == name && ok(c) {
				return c
			}
		}
		if time.Now().After(deadline) {
			require.FailNow(t, "timed out waiting for "+name, "report: %+v", rep)
		}
		time.Sleep(time.Millisecond) // bounded polling: background runs signal nothing
	}
}
