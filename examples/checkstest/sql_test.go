package checkstest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib"
	"go.uber.org/goleak"

	"github.com/probekit/probekit/checks"
	"github.com/probekit/probekit/health"
	"github.com/probekit/probekit/internal/prereq"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// dsnVar names the environment variable that points the tests at a
// PostgreSQL server other than defaultDSN.
const dsnVar = "PROBEKIT_POSTGRES_DSN"

const defaultDSN = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

func dsn() string {
	if s := os.Getenv(dsnVar); s != "" {
		return s
	}
	return defaultDSN
}

// server describes where dsn points, without its password, for messages.
func server() string {
	cfg, err := pgconn.ParseConfig(dsn())
	if err != nil {
		return "an unparsable " + dsnVar
	}
	return fmt.Sprintf("%s, user %s, database %s", net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port))), cfg.User, cfg.Database)
}

func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// open returns a pool on dsn, closed at the end of the test.
func open(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// postgres returns a pool on the test server, skipping the test when the
// server cannot be used.
func postgres(t *testing.T) *sql.DB {
	t.Helper()
	db := open(t, dsn())
	if err := db.PingContext(testCtx(t)); err != nil {
		prereq.Skip(t, fmt.Sprintf("PostgreSQL at %s (%s, or %s if unset)", server(), dsnVar, defaultDSN), err)
	}
	return db
}

// result runs check once through a registry and returns its result.
func result(t *testing.T, check health.Checker) health.CheckResult {
	t.Helper()
	reg := health.New()
	defer reg.Close()
	if err := reg.Register(health.Readiness, "postgres", check, health.CheckOptions{Timeout: 10 * time.Second}); err != nil {
		t.Fatal(err)
	}
	rep, err := reg.Check(testCtx(t), health.Readiness)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rep.Checks {
		if r.Name == "postgres" {
			return r
		}
	}
	t.Fatalf("no result in %+v", rep)
	return health.CheckResult{}
}

func TestSQLPing(t *testing.T) {
	db := postgres(t)
	if err := checks.SQL(db).Check(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	r := result(t, checks.SQL(db))
	if r.Status != health.StatusPass || r.Duration <= 0 {
		t.Fatalf("got %+v, want a pass with its duration", r)
	}
	if r.Breaker == nil {
		t.Errorf("got %+v, want a dependency check, behind a breaker", r)
	}
}

func TestSQLQuery(t *testing.T) {
	db := postgres(t)
	if err := checks.SQL(db, checks.SQLQuery("SELECT 1")).Check(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	err := checks.SQL(db, checks.SQLQuery("SELECT * FROM probekit_no_such_table")).Check(testCtx(t))
	if err == nil || !strings.HasPrefix(err.Error(), "checks: SQL: query: ") || !strings.Contains(err.Error(), "probekit_no_such_table") {
		t.Fatalf("got %v, want the server's error", err)
	}
}

func TestSQLHonoursTimeout(t *testing.T) {
	db := postgres(t)
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	err := checks.SQL(db, checks.SQLQuery("SELECT pg_sleep(10)")).Check(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want context.DeadlineExceeded", err)
	}
}

// closedPort returns a loopback port where nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	ln.Close()
	return port
}

const password = "s3cretpw"

func TestSQLErrorsNeverShowThePassword(t *testing.T) {
	port := closedPort(t)
	for name, dsn := range map[string]string{
		"URL, nothing listening":      "postgres://postgres:" + password + "@127.0.0.1:" + port + "/postgres?sslmode=disable&connect_timeout=5",
		"keywords, nothing listening": "host=127.0.0.1 port=" + port + " user=postgres password=" + password + " dbname=postgres sslmode=disable",
	} {
		t.Run(name, func(t *testing.T) { checkHidesPassword(t, open(t, dsn)) })
	}
	t.Run("URL, real server, no such database", func(t *testing.T) {
		postgres(t) // skips without a server
		cfg, err := pgconn.ParseConfig(dsn())
		if err != nil {
			t.Fatal(err)
		}
		u := url.URL{Scheme: "postgres", User: url.UserPassword(cfg.User, password), Path: "/probekit_no_such_db", RawQuery: "sslmode=disable"}
		if strings.HasPrefix(cfg.Host, "/") { // a unix socket's directory
			u.RawQuery += "&host=" + url.QueryEscape(cfg.Host) + "&port=" + strconv.Itoa(int(cfg.Port))
		} else {
			u.Host = net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port)))
		}
		checkHidesPassword(t, open(t, u.String()))
	})
}

// checkHidesPassword checks that SQL checks on db, whose DSN holds
// password and cannot work, fail without showing it.
func checkHidesPassword(t *testing.T, db *sql.DB) {
	t.Helper()
	for _, check := range []health.Checker{checks.SQL(db), checks.SQL(db, checks.SQLQuery("SELECT 1"))} {
		err := check.Check(testCtx(t))
		if err == nil {
			t.Fatal("check passed")
		}
		if strings.Contains(err.Error(), password) {
			t.Fatalf("error leaks the password: %v", err)
		}
		t.Log(err)
	}
	r := result(t, checks.SQL(db))
	if r.Status != health.StatusFail || strings.Contains(r.Err.Error(), password) {
		t.Fatalf("registry result %+v", r)
	}
}

func TestSQLWarnsWhenThePoolIsExhausted(t *testing.T) {
	db := postgres(t)
	db.SetMaxOpenConns(1)
	check := checks.SQL(db)
	if err := check.Check(testCtx(t)); err != nil {
		t.Fatal(err)
	}

	held, err := db.Conn(testCtx(t)) // the pool's only connection
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()

	// A full pool that makes nobody wait is busy, not exhausted; the check
	// must not queue for a connection either.
	if err := check.Check(testCtx(t)); err != nil {
		t.Fatalf("full pool without waiters: %v", err)
	}

	// A caller waits for a connection and gives up.
	waitInVain := func() {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
		defer cancel()
		if err := db.PingContext(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("the waiting caller got %v", err)
		}
	}
	waitInVain()

	// The check warns (a warn status, HTTP 200), saying why.
	if r := result(t, check); r.Status != health.StatusWarn ||
		!strings.Contains(r.Err.Error(), "connection pool exhausted: 1 of 1 connections in use, 1 waits") {
		t.Fatalf("registry result %+v, want a warning that the pool is exhausted", r)
	}
	// Nobody waited since.
	if err := check.Check(testCtx(t)); err != nil {
		t.Fatalf("no new waits: %v", err)
	}

	held.Close()
	if err := check.Check(testCtx(t)); err != nil {
		t.Fatalf("after the connection was released: %v", err)
	}
}
