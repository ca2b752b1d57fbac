package checks

import (
	"context"

	"github.com/probekit/probekit/health"
)

// A Pinger is a client that can test its connection to its server, such as
// *pgxpool.Pool or *pgx.Conn. Ping must honour ctx.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Ping returns a check that passes when p.Ping returns nil. The check
// observes the round trip in milliseconds.
//
// Ping is a dependency check, a health.DependencyFunc: readiness only
// (Register refuses it elsewhere with health.ErrDependencyGroup), behind a
// circuit breaker. A nil p (including a nil pointer in a non-nil interface)
// is a misconfiguration that Register refuses with an error matching
// health.ErrMisconfigured.
//
// The check calls p.Ping on the goroutine it runs on and returns when Ping
// does. Under a registry that is bounded whatever the client does: the
// registry reports the check failed (health.ErrTimeout) at its timeout, and
// while that call has not returned, later probes get the same verdict
// without calling Ping again, so a hung client costs one goroutine. Called
// directly, with no registry around it, the check waits for as long as Ping
// takes, so configure the client to honour contexts all the same (go-redis:
// ContextTimeoutEnabled).
//
// The check's error wraps the client's, whose text may echo credentials (a
// connection URI's password): the registry redacts it in its logs and HTTP
// responses, but the error value itself is unredacted (see the package
// documentation).
func Ping(p Pinger) health.Checker {
	if isNil(p) {
		return misconfigured("Ping", "nil Pinger")
	}
	return PingFunc(p.Ping)
}

// PingFunc is like Ping for clients whose ping has another shape:
//
//	checks.PingFunc(func(ctx context.Context) error { return rdb.Ping(ctx).Err() })
//
// It is a dependency check with the same contract as Ping. A nil ping is a
// misconfiguration that Register refuses.
func PingFunc(ping func(ctx context.Context) error) health.Checker {
	if ping == nil {
		return misconfigured("Ping", "nil ping function")
	}
	return health.DependencyFunc(func(ctx context.Context) error {
		if err := ping(ctx); err != nil {
			return wrap("Ping", "", err)
		}
		return nil
	})
}
