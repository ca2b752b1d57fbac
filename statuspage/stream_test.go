package statuspage

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/probekit/probekit/health"
)

// serve serves p over the network until the test ends.
func serve(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func TestStreamEndsWhenTheRegistryCloses(t *testing.T) {
	reg := health.New()
	p := newPage(t, reg, Options{Authorize: allow(AccessStatus)})
	srv := serve(t, p)
	s := openStream(t, srv.Client(), srv.URL+"/events")
	s.waitFor(t, `id="state"`, 5*time.Second)
	require.NoError(t, reg.Close())
	assert.True(t, s.ended(5*time.Second), "the stream outlived the registry")
	res, _ := get(t, p, "/events")
	assert.Equal(t, http.StatusNoContent, res.StatusCode, "a closed registry's stream tells the browser to stop reconnecting")
}

// TestStreamEndsOnDrain: the last update shows the drain, then the stream
// ends and reconnecting gets 204, so that http.Server.Shutdown after Drain
// has no stream to wait for.
func TestStreamEndsOnDrain(t *testing.T) {
	reg := newRegistry(t)
	p := newPage(t, reg, Options{Authorize: allow(AccessStatus)})
	srv := serve(t, p)
	s := openStream(t, srv.Client(), srv.URL+"/events")
	s.waitFor(t, `id="state"`, 5*time.Second)
	require.NoError(t, reg.Drain(context.Background(), 0))
	ev := s.waitFor(t, "Draining:", 5*time.Second)
	assert.Contains(t, ev, `data-title="draining · readiness fail`)
	assert.True(t, s.ended(5*time.Second), "the stream outlived the drain")
	code, _ := fetch(t, srv.Client(), srv.URL+"/events")
	assert.Equal(t, http.StatusNoContent, code)
	_, body := get(t, p, "/")
	assert.Contains(t, body, "Draining:", "the page itself still shows the drain")
}

func TestStreamEndsWhenTheClientLeaves(t *testing.T) {
	reg := newRegistry(t)
	p := newPage(t, reg, Options{Authorize: allow(AccessStatus)})
	srv := serve(t, p)
	s := openStream(t, srv.Client(), srv.URL+"/events")
	s.waitFor(t, `id="state"`, 5*time.Second)
	require.EqualValues(t, 1, p.streams.Load())
	s.close()
	assert.True(t, eventually(5*time.Second, func() bool { return p.streams.Load() == 0 }),
		"the handler is still streaming to a client that left")
}

// TestStreamCoalesces: 200 changes within a moment reach a stream as a few
// updates, the last of which shows the final state.
func TestStreamCoalesces(t *testing.T) {
	reg := newRegistry(t)
	p := newPage(t, reg, Options{Authorize: allow(AccessDetails)})
	srv := serve(t, p)
	s := openStream(t, srv.Client(), srv.URL+"/events")
	s.waitFor(t, "Readiness switch on", 5*time.Second)
	start := time.Now()
	for i := range 100 {
		reg.MarkNotReady(fmt.Sprintf("step %d", i))
		reg.MarkReady()
	}
	reg.MarkNotReady("final step")
	last := s.waitFor(t, "final step", 5*time.Second)
	elapsed := time.Since(start)
	assert.Contains(t, last, "Readiness switch off")
	n := 1 + len(s.events) // the final one, and any after it
	bound := 2 + int(elapsed/minInterval)
	assert.LessOrEqual(t, n, bound, "%d updates in %v for 201 changes", n, elapsed)
}

func TestTooManyStreams(t *testing.T) {
	reg := newRegistry(t)
	p := newPage(t, reg, Options{Authorize: allow(AccessStatus)})
	srv := serve(t, p)
	streams := make([]*stream, maxStreams)
	for i := range streams {
		streams[i] = openStream(t, srv.Client(), srv.URL+"/events")
		streams[i].waitFor(t, `id="state"`, 5*time.Second)
	}
	res, err := srv.Client().Get(srv.URL + "/events")
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusServiceUnavailable, res.StatusCode)
	assert.Equal(t, "10", res.Header.Get("Retry-After"))
	streams[0].close()
	require.True(t, eventually(5*time.Second, func() bool { return p.streams.Load() < maxStreams }))
	s := openStream(t, srv.Client(), srv.URL+"/events")
	s.waitFor(t, `id="state"`, 5*time.Second)
	for _, s := range streams {
		s.close()
	}
}

func TestStreamHead(t *testing.T) {
	reg := newRegistry(t)
	p := newPage(t, reg, Options{Authorize: allow(AccessStatus)})
	res, body := do(t, p, httptest.NewRequest(http.MethodHead, "/events", nil))
	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "text/event-stream; charset=utf-8", res.Header.Get("Content-Type"))
	assert.Empty(t, body)
	assert.EqualValues(t, 0, p.streams.Load())
}

// TestEventFraming: every line of the update is a data line, and a
// carriage return cannot end one early.
func TestEventFraming(t *testing.T) {
	got := string(event([]byte("<p>a</p>\n<p>b\rc</p>")))
	assert.Equal(t, "data: <p>a</p>\ndata: <p>bc</p>\n\n", got)
	assert.False(t, strings.Contains(got, "\r"))
}

// eventually polls cond every 10 ms until it holds or d has passed, for
// what no notification tells (a handler's return on the server's side).
func eventually(d time.Duration, cond func() bool) bool {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(d)
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline:
			return cond()
		}
	}
	return true
}

// TestAuthorizeOncePerStream: a stream is authorised when it opens, not
// at each update.
func TestAuthorizeOncePerStream(t *testing.T) {
	reg := newRegistry(t)
	var calls atomic.Int32
	p := newPage(t, reg, Options{Authorize: func(*http.Request) Access { calls.Add(1); return AccessStatus }})
	srv := serve(t, p)
	s := openStream(t, srv.Client(), srv.URL+"/events")
	s.waitFor(t, "Readiness switch on", 5*time.Second)
	reg.MarkNotReady("one")
	s.waitFor(t, "Readiness switch off", 5*time.Second)
	reg.MarkReady()
	s.waitFor(t, "Readiness switch on", 5*time.Second)
	s.close()
	assert.EqualValues(t, 1, calls.Load())
}
