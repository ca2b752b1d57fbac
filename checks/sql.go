package checks

import (
	"context"
	"database/sql"
	"strings"
	"sync/atomic"

	"github.com/probekit/probekit/health"
)

// An SQLOption configures an SQL check.
type SQLOption func(*sqlConfig)

type sqlConfig struct {
	query    string
	querySet bool
}

// SQLQuery makes the check run query (such as "SELECT 1") instead of a
// ping, for drivers whose ping does not reach the server or to prove that a
// table is readable. The query must be cheap and return few rows: the check
// reads at most the first. An empty query is a misconfiguration that
// Register refuses.
func SQLQuery(query string) SQLOption {
	return func(c *sqlConfig) { c.query, c.querySet = query, true }
}

// SQL returns a check that pings db (or runs the query of SQLQuery) and
// observes the round trip in milliseconds.
//
// It also watches the connection pool, which a plain ping misses. When
// db.SetMaxOpenConns limits the pool and every connection is in use, the
// check does not ping, since the ping would only queue behind the
// application's callers, time out, and blame a healthy database for leaked
// connections or a pool that is too small. Instead it reports a warning
// (health.Warn) that the pool is exhausted if callers have waited for a
// connection since the previous run (or since SQL was called), and passes
// if nobody has: a full pool that makes nobody wait is merely busy.
//
// SQL is a dependency check, a health.DependencyFunc: readiness only
// (Register refuses it elsewhere with health.ErrDependencyGroup), behind a
// circuit breaker. A nil db or an empty query is a misconfiguration that
// Register refuses with an error matching health.ErrMisconfigured. The
// check is safe for concurrent use.
//
// The check pings or queries on the goroutine it runs on and returns when
// the driver does. Under a registry that is bounded whatever the driver
// does: the registry reports the check failed (health.ErrTimeout) at its
// timeout, and while that call has not returned, later probes get the same
// verdict without calling the driver again. Called directly, with no
// registry around it, the check waits for as long as the driver takes.
//
// The check's error wraps the driver's, whose text may echo the DSN and its
// password: the registry redacts it in its logs and HTTP responses, but the
// error value itself is unredacted (see the package documentation).
func SQL(db *sql.DB, opts ...SQLOption) health.Checker {
	var c sqlConfig
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	switch {
	case db == nil:
		return misconfigured("SQL", "nil *sql.DB")
	case c.querySet && strings.TrimSpace(c.query) == "":
		return misconfigured("SQL", "empty query")
	}
	s := &sqlCheck{db: db, query: c.query}
	s.waits.Store(db.Stats().WaitCount)
	return health.DependencyFunc(s.run)
}

type sqlCheck struct {
	db    *sql.DB
	query string
	waits atomic.Int64 // db.Stats().WaitCount at the previous run
}

func (s *sqlCheck) run(ctx context.Context) error {
	st := s.db.Stats()
	prev := s.waits.Swap(st.WaitCount)
	if st.MaxOpenConnections > 0 && st.InUse >= st.MaxOpenConnections {
		// A ping now would only queue for a connection.
		if st.WaitCount > prev {
			return health.Warn(failf("SQL", "connection pool exhausted: %d of %d connections in use, %d waits for a connection since the last check",
				st.InUse, st.MaxOpenConnections, st.WaitCount-prev))
		}
		return nil
	}
	if s.query == "" {
		if err := s.db.PingContext(ctx); err != nil {
			return wrap("SQL", "ping", err)
		}
	} else if err := s.runQuery(ctx); err != nil {
		return wrap("SQL", "query", err)
	}
	return nil
}

func (s *sqlCheck) runQuery(ctx context.Context) error {
	rows, err := s.db.QueryContext(ctx, s.query)
	if err != nil {
		return err
	}
	rows.Next() // an error in the first row surfaces through Err
	err = rows.Err()
	if cerr := rows.Close(); err == nil {
		err = cerr
	}
	return err
}
