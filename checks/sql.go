package checks

import (
	"context"
	"database/sql"
	"strings"
	"sync/atomic"
	"time"

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
// Error messages are redacted: passwords, tokens and URL userinfo that a
// driver echoes from its DSN do not appear in them.
//
// The check returns when its context ends even if the driver ignores it:
// the ping or query then runs on a goroutine of its own, left to finish
// when the driver returns, and until it does every run fails at once
// rather than start another.
//
// SQL is a dependency check: register it in readiness only, with
// health.Dependency. The check is safe for concurrent use. A nil db or an
// empty query is a misconfiguration that Register refuses with an error
// matching health.ErrMisconfigured.
func SQL(db *sql.DB, opts ...SQLOption) health.CheckFunc {
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
	return s.run
}

type sqlCheck struct {
	db    *sql.DB
	query string
	waits atomic.Int64 // db.Stats().WaitCount at the previous run
	call  boundedCall
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
	start := time.Now()
	if s.query == "" {
		if err := s.call.do(ctx, s.db.PingContext); err != nil {
			return wrap("SQL", "ping", err)
		}
	} else if err := s.call.do(ctx, s.runQuery); err != nil {
		return wrap("SQL", "query", err)
	}
	observeSince(ctx, start)
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
