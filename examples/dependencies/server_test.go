package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/probekit/probekit/health"
)

func TestFlagDefaultsAreTheLibrarys(t *testing.T) {
	cfg, err := parseFlags(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	// What a registry makes of a dependency check that sets nothing.
	reg := health.New()
	defer reg.Close()
	if err := reg.Register(health.Readiness, "dep", health.DependencyFunc(func(context.Context) error { return nil })); err != nil {
		t.Fatal(err)
	}
	lib := reg.Contract().Checks[0]
	want := config{addr: ":8080", interval: defaultInterval, timeout: time.Duration(lib.Timeout),
		breakerOpen: time.Duration(lib.Breaker.Open), failures: lib.Breaker.Failures, drain: 5 * time.Second}
	if cfg != want {
		t.Errorf("defaults = %+v, want %+v: :8080, %v, and the health package's timeout and breaker defaults", cfg, want, defaultInterval)
	}
	if lib.Breaker.Jitter != breakerJitter {
		t.Errorf("breakerJitter = %v, the health package's is %v", breakerJitter, lib.Breaker.Jitter)
	}
}

func TestFlagsRejectNonsense(t *testing.T) {
	for _, args := range [][]string{
		{"-interval", "0s"},
		{"-timeout", "-1s"},
		{"-breaker-open", "0s"},
		{"-breaker-failures", "0"},
		{"-nosuchflag"},
		{"extra"},
	} {
		var out strings.Builder
		if _, err := parseFlags(args, &out); err == nil {
			t.Errorf("parseFlags(%q) succeeded, want an error", args)
		} else if out.Len() == 0 {
			t.Errorf("parseFlags(%q) printed nothing: the user would not know why it failed", args)
		}
	}
}

func TestNewServerRejectsABadDSN(t *testing.T) {
	s, err := newServer(config{postgresDSN: "postgres://%zz"})
	if err == nil {
		_ = s.Close()
		t.Fatal("newServer accepted a DSN that does not parse")
	}
}

// refusedAddr returns a loopback address where nothing listens.
func refusedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// TestDetailsOnlyForLoopback: with -details, a loopback client reads why a
// check fails; a client from the network still does not.
func TestDetailsOnlyForLoopback(t *testing.T) {
	s, err := newServer(config{redisAddr: refusedAddr(t), interval: 50 * time.Millisecond, details: true})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	}()
	hs := httptest.NewServer(s.handler)
	defer hs.Close()

	var body string
	await(t, 5*time.Second, "the reason shows on loopback", func() bool {
		_, body = get(hs.URL + "/ready?verbose")
		return strings.Contains(body, "connection refused")
	})
	if !strings.Contains(body, "[-]redis failed: ") {
		t.Errorf("loopback /ready?verbose = %q, want the redis check failed with its reason", body)
	}

	req := httptest.NewRequest(http.MethodGet, "/ready?verbose", nil)
	req.RemoteAddr = "10.1.2.3:40000"
	rec := httptest.NewRecorder()
	s.handler.ServeHTTP(rec, req)
	if got := rec.Body.String(); rec.Code != http.StatusServiceUnavailable || !strings.Contains(got, "[-]redis failed: reason withheld") {
		t.Errorf("/ready?verbose from 10.1.2.3 = %d %q, want 503 with the reason withheld", rec.Code, got)
	}
}

// TestLivenessIgnoresDependencies: with both dependencies unreachable from
// the start, liveness passes and readiness fails.
func TestLivenessIgnoresDependencies(t *testing.T) {
	s, err := newServer(config{
		redisAddr:   refusedAddr(t),
		postgresDSN: "postgres://postgres@" + refusedAddr(t) + "/postgres?sslmode=disable",
		interval:    50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	}()
	hs := httptest.NewServer(s.handler)
	defer hs.Close()
	await(t, 5*time.Second, "both checks have failed", func() bool {
		_, body := get(hs.URL + "/ready?verbose")
		return strings.Contains(body, "[-]redis failed") && strings.Contains(body, "[-]postgres failed")
	})
	if code, body := get(hs.URL + "/"); code != http.StatusOK {
		t.Errorf("GET / = %d %q, want 200: a dead dependency is no reason to restart", code, body)
	}
	if code, _ := get(hs.URL + "/ready"); code != http.StatusServiceUnavailable {
		t.Errorf("GET /ready = %d, want 503", code)
	}
}

// TestRedisDialsWaitForTheBreaker: once enough dials have failed, go-redis
// dials on its own, once a second, whatever the breaker says. The service's
// dialer refuses while the breaker is open; this test shows that go-redis
// does ask, so the refusal is not idle code.
func TestRedisDialsWaitForTheBreaker(t *testing.T) {
	// Short cycles, so that the PoolSize (10 per CPU) failed dials that
	// start go-redis's background dialing accumulate within a second.
	s, err := newServer(config{redisAddr: refusedAddr(t), interval: 10 * time.Millisecond,
		timeout: 100 * time.Millisecond, breakerOpen: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	}()
	await(t, 10*time.Second, "go-redis dials while the breaker is open", func() bool { return s.dialsRefused.Load() > 0 })
}
