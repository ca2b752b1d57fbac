package main

import (
	"context"
	"database/sql"
	"net/http"
	"os"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/probekit/probekit/examples/internal/proctest"
	"github.com/probekit/probekit/internal/prereq"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(proctest.WithCleanup(m)) }

// postgres returns the DSN of the machine's PostgreSQL, or skips.
func postgres(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv("PROBEKIT_POSTGRES_DSN")
	if dsn == "" {
		dsn = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	db, err := sql.Open("pgx", dsn)
	require.NoError(t, err)
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		prereq.Skip(t, "PostgreSQL at PROBEKIT_POSTGRES_DSN (Debian package postgresql)", err)
	}
	return dsn
}

// The quick start as a process: liveness and readiness pass once the
// registry has checked PostgreSQL, and SIGTERM drains readiness first.
func TestQuickStart(t *testing.T) {
	dsn := postgres(t)
	t.Setenv("DATABASE_URL", dsn) // the child inherits it
	p := proctest.Start(t, proctest.Build(t, "."), "-addr", "127.0.0.1:0")
	base := "http://" + p.Addr()
	get := func(path string) int {
		resp, err := http.Get(base + path)
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	deadline := time.Now().Add(10 * time.Second)
	for get("/ready") != http.StatusOK {
		require.True(t, time.Now().Before(deadline), "readiness never passed:\n%s", p.Output())
		time.Sleep(20 * time.Millisecond)
	}
	assert.Equal(t, http.StatusOK, get("/"))
	assert.Equal(t, http.StatusOK, get("/readyz/postgres"))
	assert.Equal(t, http.StatusOK, get("/livez/worker"))

	p.Signal(syscall.SIGTERM)
	deadline = time.Now().Add(10 * time.Second)
	for get("/ready") != http.StatusServiceUnavailable {
		require.True(t, time.Now().Before(deadline), "readiness did not fail while draining:\n%s", p.Output())
		time.Sleep(10 * time.Millisecond)
	}
	assert.Equal(t, http.StatusOK, get("/"), "liveness passes while draining")
	require.NoError(t, p.Wait(15*time.Second))
}
