package checkstest

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/probekit/probekit/checks"
	"github.com/probekit/probekit/health"
)

// Example_sql checks a PostgreSQL database through the pgx driver
// (import _ "github.com/jackc/pgx/v5/stdlib"). It needs a server, and an
// example cannot skip, so it is compiled but not run; TestSQLPing runs the
// same registration and check against PROBEKIT_POSTGRES_DSN.
func Example_sql() {
	db, err := sql.Open("pgx", dsn())
	if err != nil {
		panic(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(10) // lets the check warn when the pool is exhausted

	reg := health.New()
	defer reg.Close()
	fmt.Println(reg.Register(health.Readiness, "postgres", checks.SQL(db))) // a dependency: behind a breaker

	rep, _ := reg.Check(context.Background(), health.Readiness)
	fmt.Println(rep.Status) // pass
}
