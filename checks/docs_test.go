package checks_test

// The Go snippets of docs/checks.md, each verbatim (indented one tab) in
// the body of one function below, so that they compile and run.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/probekit/probekit/checks"
	"github.com/probekit/probekit/checks/internal/docclients/redis"
	"github.com/probekit/probekit/health"

	"github.com/probekit/probekit/internal/prereq"
)

// docsRegistration is the first snippet ("With ... imported").
func docsRegistration(db *sql.DB, registered *int) error {
	reg := health.New()
	defer reg.Close()

	hb := checks.NewHeartbeat(time.Minute) // the worker calls hb.Beat() each time round
	err := errors.Join(
		reg.Register(health.Readiness, "postgres", checks.SQL(db), health.CheckOptions{Every: 10 * time.Second}),
		reg.Register(health.Readiness, "payments", checks.HTTP("http://payments/healthz")),
		reg.Register(health.Liveness, "goroutines", checks.Goroutines(10000)),
		reg.Register(health.Liveness, "worker", hb.Check()),
	)
	if err != nil {
		return err // a check that can never work, or a dependency outside readiness, is refused here
	}
	*registered = len(reg.Contract().Checks)
	return nil
}

func TestDocsRegistration(t *testing.T) {
	db, err := sql.Open("checks-echo", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := docsRegistration(db, &n); err != nil {
		t.Fatal(err)
	}
	if n != 4 {
		t.Fatalf("%d checks registered, want 4", n)
	}
}

// TestDocsGoRedis runs the go-redis snippet against the Redis server on
// 127.0.0.1:6379 through a stand-in of go-redis with the same shape.
func TestDocsGoRedis(t *testing.T) {
	if c, err := net.DialTimeout("tcp", "127.0.0.1:6379", 2*time.Second); err != nil {
		prereq.Skip(t, "Redis at 127.0.0.1:6379 (Debian package redis-server)", err)
	} else {
		c.Close()
	}
	reg := health.New()
	defer reg.Close()

	rdb := redis.NewClient(&redis.Options{
		Addr:                  "127.0.0.1:6379",
		ContextTimeoutEnabled: true, // honour the check's deadline
	})
	err := reg.Register(health.Readiness, "redis",
		checks.PingFunc(func(ctx context.Context) error { return rdb.Ping(ctx).Err() }))

	if err != nil {
		t.Fatal(err)
	}
	rep, err := reg.Check(testCtx(t), health.Readiness)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Status != health.StatusPass {
		t.Fatalf("status %v, want pass: %+v", rep.Status, rep.Checks)
	}
}

// pgxPool stands in for a *pgxpool.Pool: a Ping(ctx) error method.
type pgxPool struct{ db *sql.DB }

func (p pgxPool) Ping(ctx context.Context) error { return p.db.PingContext(ctx) }

// mongoClient stands in for a *mongo.Client, whose Ping takes a read
// preference.
type mongoClient struct{}

func (mongoClient) Ping(ctx context.Context, _ any) error { return ctx.Err() }

func TestDocsPgxAndSQL(t *testing.T) {
	db, openErr := sql.Open("checks-echo", "")
	if openErr != nil {
		t.Fatal(openErr)
	}
	defer db.Close()
	pool := pgxPool{db}
	reg := health.New()
	defer reg.Close()

	err := errors.Join(
		reg.Register(health.Readiness, "postgres", checks.Ping(pool)),
		reg.Register(health.Readiness, "postgres-sql", checks.SQL(db)),
	)

	if n := len(reg.Contract().Checks); err != nil || n != 2 {
		t.Fatalf("err %v, %d checks", err, n)
	}
}

func TestDocsMongo(t *testing.T) {
	client := mongoClient{}
	reg := health.New()
	defer reg.Close()

	err := reg.Register(health.Readiness, "mongo",
		checks.PingFunc(func(ctx context.Context) error { return client.Ping(ctx, nil) }))

	if err != nil {
		t.Fatal(err)
	}
}

// ExampleGoroutines_misconfigured is the misconfiguration snippet:
// arguments that can never work are refused where the check is registered,
// at start-up, rather than failing every probe.
func ExampleGoroutines_misconfigured() {
	reg := health.New()
	defer reg.Close()

	err := reg.Register(health.Liveness, "goroutines", checks.Goroutines(0))
	fmt.Println(errors.Is(err, health.ErrMisconfigured))
	// Output: true
}
