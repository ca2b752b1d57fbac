package checks_test

import (
	"context"
	"database/sql"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/probekit/probekit/checks"
	"github.com/probekit/probekit/health"
)

// dependencyChecks returns one well-configured check of every constructor
// that calls another process.
func dependencyChecks(t *testing.T) map[string]health.Checker {
	t.Helper()
	db, err := sql.Open("checks-echo", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return map[string]health.Checker{
		"tcp":       checks.TCP("127.0.0.1:5432"),
		"http":      checks.HTTP("http://127.0.0.1/healthz", checks.HTTPHeader("Authorization", "Bearer t")),
		"dns":       checks.DNS("localhost"),
		"sql":       checks.SQL(db),
		"sql-query": checks.SQL(db, checks.SQLQuery("SELECT 1")),
		"ping":      checks.Ping(&fakeClient{}),
		"ping-func": checks.PingFunc((&fakeClient{}).Ping),
		"tls":       checks.TLSCertEndpoint("127.0.0.1:443", 0),
	}
}

// localChecks returns one well-configured check of every constructor that
// looks at the process itself.
func localChecks(t *testing.T) map[string]health.Checker {
	t.Helper()
	return map[string]health.Checker{
		"goroutines": checks.Goroutines(10000),
		"memory":     checks.Memory(checks.HeapMemory, 1<<40),
		"disk":       checks.Disk(t.TempDir(), 1),
		"heartbeat":  checks.NewHeartbeat(time.Minute).Check(),
		"tls-file":   checks.TLSCertFile("/etc/tls/tls.crt", 0),
	}
}

// TestDependencyChecksAreReadinessOnly: every check that calls another
// process is a dependency by its type: Register refuses it in liveness and
// startup (ErrDependencyGroup) with nothing registered, and accepts it in
// readiness behind a circuit breaker, without any option saying so.
func TestDependencyChecksAreReadinessOnly(t *testing.T) {
	for name, check := range dependencyChecks(t) {
		if _, ok := check.(health.DependencyFunc); !ok {
			t.Errorf("%s: a %T, want a health.DependencyFunc", name, check)
		}
		reg := health.New()
		for _, g := range []health.Group{health.Liveness, health.Startup} {
			if err := reg.Register(g, name, check); !errors.Is(err, health.ErrDependencyGroup) {
				t.Errorf("%s in %v: Register returned %v, want ErrDependencyGroup", name, g, err)
			}
		}
		if n := len(reg.Contract().Checks); n != 0 {
			t.Errorf("%s: refused, yet %d checks are registered", name, n)
		}
		if err := reg.Register(health.Readiness, name, check, health.CheckOptions{Every: time.Hour}); err != nil {
			t.Errorf("%s in readiness: %v", name, err)
		}
		if b, err := reg.Breaker(name); err != nil || b == nil {
			t.Errorf("%s: no breaker in readiness: %v", name, err)
		}
		c := reg.Contract().Checks
		if len(c) != 1 || !c[0].Dependency || c[0].Breaker == nil {
			t.Errorf("%s: the contract says %+v, want one dependency check with a breaker", name, c)
		}
		for _, r := range reg.Latest(health.Readiness).Checks {
			if r.Name == name && r.Breaker == nil {
				t.Errorf("%s: its result shows no breaker", name)
			}
		}
		reg.Close()
	}
}

// TestLocalChecksSuitEveryGroup: the checks of the process's own state are
// not dependencies: liveness accepts them, and they have no breaker.
func TestLocalChecksSuitEveryGroup(t *testing.T) {
	for name, check := range localChecks(t) {
		if _, ok := check.(health.CheckFunc); !ok {
			t.Errorf("%s: a %T, want a health.CheckFunc", name, check)
		}
		reg := health.New()
		if err := reg.Register(health.Liveness, name, check); err != nil {
			t.Errorf("%s in liveness: %v", name, err)
		}
		if _, err := reg.Breaker(name); !errors.Is(err, health.ErrUnknownCheck) {
			t.Errorf("%s: Breaker returned %v, want ErrUnknownCheck", name, err)
		}
		if c := reg.Contract().Checks; len(c) != 1 || c[0].Dependency {
			t.Errorf("%s: the contract says %+v, want one check that is no dependency", name, c)
		}
		reg.Close()
	}
}

// TestDependencyCheckBreakerOpens: in readiness, a dependency that keeps
// failing opens its breaker after the default three failures, and the
// next probe is answered without calling it.
func TestDependencyCheckBreakerOpens(t *testing.T) {
	client := &countingClient{err: errors.New("connection refused")}
	reg := health.New()
	t.Cleanup(func() { reg.Close() })
	if err := reg.Register(health.Readiness, "db", checks.Ping(client)); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := reg.Check(testCtx(t), health.Readiness, "db"); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := reg.Check(testCtx(t), health.Readiness, "db")
	if err != nil {
		t.Fatal(err)
	}
	r := rep.Checks[0]
	if !errors.Is(r.Err, health.ErrBreakerOpen) || r.Breaker == nil || r.Breaker.State.String() != "open" {
		t.Fatalf("after three failures: %v, breaker %+v; want an open breaker", r.Err, r.Breaker)
	}
	if calls := client.calls.Load(); calls != 3 {
		t.Fatalf("the client was called %d times, want 3 (the open breaker answers the fourth probe)", calls)
	}
}

// countingClient counts its pings and fails them with err.
type countingClient struct {
	calls atomic.Int32
	err   error
}

func (c *countingClient) Ping(context.Context) error { c.calls.Add(1); return c.err }
