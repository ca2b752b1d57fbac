package checks_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"testing"

	"github.com/probekit/probekit/checks"
	"github.com/probekit/probekit/health"
)

// echoDriver fails every connection with an error that quotes the DSN, as
// some drivers do.
type echoDriver struct{}

func (echoDriver) Open(dsn string) (driver.Conn, error) {
	return nil, errors.New("cannot connect using " + dsn)
}

func init() { sql.Register("checks-echo", echoDriver{}) }

// TestSQLRedactsTheDSN: what a driver echoes of its DSN is redacted by
// the registry, in the forms drivers write.
func TestSQLRedactsTheDSN(t *testing.T) {
	for _, dsn := range []string{
		"postgres://app:hunter2@db.internal:5432/app?sslmode=require",
		"host=db.internal user=app password='hunter2 with spaces' dbname=app",
		"host=db.internal user=app password=hunter2 dbname=app",
		"app:hunter2@tcp(db.internal:3306)/app?parseTime=true",
		"sqlserver://app:hunter2@db.internal?database=app",
		"Server=db.internal;User Id=app;Password=hunter2;Database=app",
		// The reproductions: '@' inside the password.
		"postgres://app:p@hunter2@db/app",
		"app:p@hunter2@tcp(db:3306)/app",
		"app:hun:ter/2(x@hunter2@tcp(db:3306)/app",
		"mongodb+srv://app:hunter2@c0.example.net,c1.example.net/app",
		"host=db password='hunter2 \\' quoted' user=app",
	} {
		db, err := sql.Open("checks-echo", dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		for _, check := range []health.Checker{checks.SQL(db), checks.SQL(db, checks.SQLQuery("SELECT 1"))} {
			requireFail(t, check.Check(testCtx(t)), "SQL")
			requireRedacted(t, check, "hunter2")
		}
	}
}

func TestSQLHonoursContext(t *testing.T) {
	db, err := sql.Open("checks-echo", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := checks.SQL(db).Check(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
}

func TestSQLInvalidConfiguration(t *testing.T) {
	db, err := sql.Open("checks-echo", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	requireFail(t, checks.SQL(nil).Check(testCtx(t)), "SQL")
	requireFail(t, checks.SQL(db, checks.SQLQuery(" ")).Check(testCtx(t)), "SQL")
}
