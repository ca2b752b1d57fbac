package main

import (
	"context"
	"encoding/json"
	"github.com/redis/go-redis/v9"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/probekit/probekit/examples/internal/privdb"
	"github.com/probekit/probekit/examples/internal/proctest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	// go-redis logs failed dials to stderr; the tests provoke plenty.
	redis.SetLogger(redisLogger{slog.New(slog.DiscardHandler)})
	goleak.VerifyTestMain(proctest.WithCleanup(privdb.WithCleanup(m)),
		// go-redis's background dialer sleeps a second between dials and
		// only then sees that its client was closed.
		goleak.IgnoreAnyFunction("github.com/redis/go-redis/v9/internal/pool.(*ConnPool).tryDial"))
}

// service is the real binary, running.
type service struct {
	*proctest.Process
	t    *testing.T
	base string // http://127.0.0.1:port

	mu    sync.Mutex
	lines []map[string]any
	grew  chan struct{} // closed and replaced when a line arrives
}

// startService runs the binary with args (plus -addr 127.0.0.1:0) and
// returns once it has logged its address.
func startService(t *testing.T, args ...string) *service {
	t.Helper()
	s := &service{t: t, grew: make(chan struct{})}
	s.Process = proctest.Cmd{
		Bin:      proctest.Build(t, "."),
		Args:     append([]string{"-addr", "127.0.0.1:0"}, args...),
		AddrFrom: listeningAddr,
		OnLine:   s.add,
	}.Start(t)
	s.base = "http://" + s.Addr()
	return s
}

// listeningAddr is the address in the service's "listening" log line.
func listeningAddr(line string) (string, bool) {
	var l struct {
		Msg  string `json:"msg"`
		Addr string `json:"addr"`
	}
	if json.Unmarshal([]byte(line), &l) != nil || l.Msg != "listening" {
		return "", false
	}
	return l.Addr, true
}

func (s *service) add(line string) {
	var m map[string]any
	if err := json.Unmarshal([]byte(line), &m); err != nil {
		m = map[string]any{"msg": "(not JSON)", "line": line}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lines = append(s.lines, m)
	close(s.grew)
	s.grew = make(chan struct{})
}

// mark returns how many lines the service has logged so far, for waitLog.
func (s *service) mark() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.lines)
}

// waitLog returns the first log line after the first from lines that match
// accepts, waiting up to d for it.
func (s *service) waitLog(from int, d time.Duration, match func(map[string]any) bool) map[string]any {
	s.t.Helper()
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	seen := from
	for {
		s.mu.Lock()
		lines, grew := s.lines[seen:], s.grew
		seen = len(s.lines)
		s.mu.Unlock()
		for _, l := range lines {
			if match(l) {
				return l
			}
		}
		select {
		case <-grew:
		case <-s.Done():
			s.t.Fatalf("service exited (%v) before logging the line awaited", s.Err())
		case <-deadline.C:
			s.t.Fatalf("no such log line within %v", d)
		}
	}
}

// breakerLog matches the registry's log line for the breaker of check
// moving to state to.
func breakerLog(check, to string) func(map[string]any) bool {
	return func(l map[string]any) bool {
		return l["msg"] == "health circuit breaker changed state" && l["check"] == check && l["state"] == to
	}
}

// statusLog matches the registry's log line for check changing to status.
func statusLog(check, to string) func(map[string]any) bool {
	return func(l map[string]any) bool {
		return l["msg"] == "health status changed" && l["check"] == check && l["to"] == to
	}
}

var client = &http.Client{Timeout: 3 * time.Second}

// get returns the status code and body of GET url; code 0 means the request
// itself failed.
func get(url string) (int, string) { return do(http.MethodGet, url) }

func do(method, url string) (int, string) {
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		return 0, err.Error()
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// await polls cond every 20 ms until it returns true, and fails the test if
// that takes longer than limit. It returns how long it took.
func await(t *testing.T, limit time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Since(start) > limit {
			t.Fatalf("%s: not within %v", what, limit)
		}
		<-tick.C
	}
	return time.Since(start)
}

// readyCode returns the status code of /ready.
func readyCode(base string) int {
	code, _ := get(base + "/ready")
	return code
}

// breakerState returns the "breaker" field of check in the JSON of /ready.
func breakerState(base, check string) string {
	_, body := get(base + "/ready")
	var rep struct {
		Checks map[string][]struct {
			Breaker string `json:"breaker"`
		} `json:"checks"`
	}
	if json.Unmarshal([]byte(body), &rep) != nil || len(rep.Checks[check]) == 0 {
		return ""
	}
	return rep.Checks[check][0].Breaker
}

// livenessWatch polls / every 20 ms until stop is called, and returns how
// many polls it made and the failures it saw.
type livenessWatch struct {
	cancel context.CancelFunc
	done   chan struct{}
	polls  int
	bad    []string
	ended  atomic.Int64 // polls completed so far
}

// completed returns how many polls have completed so far.
func (w *livenessWatch) completed() int64 { return w.ended.Load() }

func watchLiveness(base string) *livenessWatch {
	ctx, cancel := context.WithCancel(context.Background())
	w := &livenessWatch{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			code, body := get(base + "/")
			w.polls++
			if code != http.StatusOK {
				w.bad = append(w.bad, strings.TrimSpace(body))
			}
			w.ended.Add(1)
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	return w
}

func (w *livenessWatch) stop() (polls int, bad []string) {
	w.cancel()
	<-w.done
	return w.polls, w.bad
}
