package checks

import (
	"context"
	"time"

	"github.com/probekit/probekit/health"
)

// A Pinger is a client that can test its connection to its server, such as
// *pgxpool.Pool or *pgx.Conn. Ping must honour ctx.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Ping returns a check that passes when p.Ping returns nil. Credentials the
// client echoes into its error (a connection URI's password, a token=
// parameter) are redacted from the check's error. The check observes the
// round trip in milliseconds.
//
// Ping is a dependency check: register it in readiness only, with
// health.Dependency. The check runs Ping on the caller's goroutine, so it
// returns when the client honours ctx; a client that ignores ctx keeps the
// check running past its timeout. A nil p (including a nil pointer in a
// non-nil interface) makes every run fail with an error starting
// "checks: Ping:".
func Ping(p Pinger) health.CheckFunc {
	if isNil(p) {
		return misconfigured("Ping", "nil Pinger")
	}
	return PingFunc(p.Ping)
}

// PingFunc is like Ping for clients whose ping has another shape:
//
//	checks.PingFunc(func(ctx context.Context) error { return rdb.Ping(ctx).Err() })
//
// A nil ping makes every run fail with an error starting "checks: Ping:".
func PingFunc(ping func(ctx context.Context) error) health.CheckFunc {
	if ping == nil {
		return misconfigured("Ping", "nil ping function")
	}
	return func(ctx context.Context) error {
		start := time.Now()
		if err := ping(ctx); err != nil {
			return wrap("Ping", "", err)
		}
		observeSince(ctx, start)
		return nil
	}
}
