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
// health.Dependency. The check returns when its context ends even if the
// client ignores it: Ping then runs on a goroutine of its own, which is left
// to finish when the client returns, and until it does every run fails at
// once rather than start another (so a hung client costs one goroutine,
// not one per run). Configure the client to honour contexts all the same
// (go-redis: ContextTimeoutEnabled). A nil p (including a nil pointer in a
// non-nil interface) is a misconfiguration that Register refuses with an
// error matching health.ErrMisconfigured.
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
// It returns when its context ends, as Ping does. A nil ping is a
// misconfiguration that Register refuses.
func PingFunc(ping func(ctx context.Context) error) health.CheckFunc {
	if ping == nil {
		return misconfigured("Ping", "nil ping function")
	}
	var call boundedCall
	return func(ctx context.Context) error {
		start := time.Now()
		if err := call.do(ctx, ping); err != nil {
			return wrap("Ping", "", err)
		}
		observeSince(ctx, start)
		return nil
	}
}
