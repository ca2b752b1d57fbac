package checks_test

import (
	"context"
	"database/sql"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"time"

	"github.com/probekit/probekit/checks"
	"github.com/probekit/probekit/health"
)

// status registers check in a new registry's readiness group, as a
// dependency or not, and prints the group's status.
func status(check health.CheckFunc, opts ...health.CheckOption) {
	reg := health.New()
	defer reg.Close()
	if err := reg.Register(health.Readiness, "example", check, opts...); err != nil {
		fmt.Println(err)
		return
	}
	rep, err := reg.Check(context.Background(), health.Readiness)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(rep.Status)
}

// observed returns what the named check of rep observed.
func observed(rep health.Report, name string) *health.Observation {
	for _, r := range rep.Checks {
		if r.Name == name && r.Observation != nil {
			return r.Observation
		}
	}
	return &health.Observation{}
}

func ExampleTCP() {
	ln, err := net.Listen("tcp", "127.0.0.1:0") // stands in for a database
	if err != nil {
		panic(err)
	}
	defer ln.Close()

	reg := health.New()
	defer reg.Close()
	err = reg.Register(health.Readiness, "backend", checks.TCP(ln.Addr().String()), health.Dependency())
	fmt.Println(err)

	rep, _ := reg.Check(context.Background(), health.Readiness)
	fmt.Println(rep.Status)
	// Output:
	// <nil>
	// pass
}

func ExampleHTTP() {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"status":"ok"}`)
	}))
	defer api.Close()

	check := checks.HTTP(api.URL+"/healthz",
		checks.HTTPHeader("Authorization", "Bearer "+os.Getenv("API_TOKEN")),
		checks.HTTPExpectStatus(http.StatusOK))
	status(check, health.Dependency())
	// Output: pass
}

func ExampleHTTP_credentials() {
	// Credentials in the URL are sent, but never shown.
	check := checks.HTTP("http://admin:hunter2@127.0.0.1:1/health?token=s3cret")
	fmt.Println(check(context.Background()))
	// Output: checks: HTTP: GET http://127.0.0.1:1/health: dial tcp 127.0.0.1:1: connect: connection refused
}

func ExampleDNS() {
	status(checks.DNS("localhost"), health.Dependency())
	// Output: pass
}

func ExampleSQL() {
	// import _ "github.com/jackc/pgx/v5/stdlib"
	db, err := sql.Open("pgx", os.Getenv("DATABASE_URL"))
	if err != nil {
		panic(err)
	}
	db.SetMaxOpenConns(20) // a limit lets the check spot an exhausted pool

	reg := health.New()
	defer reg.Close()
	reg.Register(health.Readiness, "postgres", checks.SQL(db), health.Dependency())
	// Or with a query instead of a ping:
	reg.Register(health.Readiness, "orders-table", checks.SQL(db, checks.SQLQuery("SELECT 1 FROM orders LIMIT 1")), health.Dependency())
}

// pool stands in for a client with a Ping method, such as a
// *pgxpool.Pool.
type pool struct{}

func (pool) Ping(context.Context) error { return nil }

func ExamplePing() {
	var p pool // a *pgxpool.Pool, say
	status(checks.Ping(p), health.Dependency())
	// Output: pass
}

func ExamplePingFunc() {
	// With go-redis: checks.PingFunc(func(ctx context.Context) error { return rdb.Ping(ctx).Err() })
	ping := func(ctx context.Context) error {
		return errors.New("dial redis://:hunter2@10.0.0.7:6379: connection refused")
	}
	fmt.Println(checks.PingFunc(ping)(context.Background()))
	// Output: checks: Ping: dial redis://:xxxxx@10.0.0.7:6379: connection refused
}

func ExampleGoroutines() {
	reg := health.New()
	defer reg.Close()
	fmt.Println(reg.Register(health.Liveness, "goroutines", checks.Goroutines(10000)))

	rep, _ := reg.Check(context.Background(), health.Liveness)
	fmt.Println(rep.Status, observed(rep, "goroutines").Unit)
	// Output:
	// <nil>
	// pass goroutines
}

func ExampleMemory() {
	reg := health.New()
	defer reg.Close()
	// Below a 1 GiB container limit, so that a leak ends in a clean restart
	// rather than an OOM kill.
	reg.Register(health.Liveness, "heap", checks.Memory(checks.HeapMemory, 800<<20))

	rep, _ := reg.Check(context.Background(), health.Liveness)
	fmt.Println(rep.Status, observed(rep, "heap").Unit)
	// Output: pass bytes
}

func ExampleDisk() {
	status(checks.Disk(os.TempDir(), 1<<20))
	// Output: pass
}

func ExampleHeartbeat() {
	hb := checks.NewHeartbeat(time.Minute)
	reg := health.New()
	defer reg.Close()
	reg.Register(health.Liveness, "worker", hb.Check())

	jobs := make(chan int)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range jobs {
			hb.Beat() // once per iteration of the work loop
		}
	}()
	jobs <- 1
	close(jobs)
	<-done

	rep, _ := reg.Check(context.Background(), health.Liveness)
	fmt.Println(rep.Status)
	// Output: pass
}

func ExampleTLSCertFile() {
	srv := httptest.NewTLSServer(http.NotFoundHandler()) // its certificate is valid for decades
	defer srv.Close()
	path := filepath.Join(os.TempDir(), "probekit-example.crt")
	os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600)
	defer os.Remove(path)

	// Warn 30 days ahead; NonCritical keeps even an expired certificate from
	// failing readiness, since the renewal is someone else's job.
	status(checks.TLSCertFile(path, 30*24*time.Hour), health.NonCritical())
	// Output: pass
}

func ExampleTLSCertEndpoint() {
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	defer srv.Close()

	addr := srv.Listener.Addr().String()
	status(checks.TLSCertEndpoint(addr, 30*24*time.Hour), health.Dependency())
	// Output: pass
}
