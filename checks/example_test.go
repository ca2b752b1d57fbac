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
	"strings"
	"time"

	"github.com/probekit/probekit/checks"
	"github.com/probekit/probekit/health"
)

// status registers check in a new registry's readiness group and prints
// the group's status.
func status(check health.Checker, opts ...health.CheckOptions) {
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

func ExampleTCP() {
	ln, err := net.Listen("tcp", "127.0.0.1:0") // stands in for a database
	if err != nil {
		panic(err)
	}
	defer ln.Close()

	reg := health.New()
	defer reg.Close()
	// A dependency check: readiness only, behind a breaker.
	err = reg.Register(health.Readiness, "backend", checks.TCP(ln.Addr().String()))
	fmt.Println(err)
	fmt.Println(errors.Is(reg.Register(health.Liveness, "backend-alive", checks.TCP(ln.Addr().String())), health.ErrDependencyGroup))

	rep, _ := reg.Check(context.Background(), health.Readiness, "backend")
	fmt.Println(rep.Status, rep.Checks[0].Breaker.State)
	// Output:
	// <nil>
	// true
	// pass closed
}

func ExampleHTTP() {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"status":"ok"}`)
	}))
	defer api.Close()

	check := checks.HTTP(api.URL+"/healthz",
		checks.HTTPHeader("Authorization", "Bearer "+os.Getenv("API_TOKEN")),
		checks.HTTPExpectStatus(http.StatusOK))
	status(check)
	// Output: pass
}

func ExampleHTTP_credentials() {
	// Credentials in the URL are sent, but never shown.
	check := checks.HTTP("http://admin:hunter2@127.0.0.1:1/health?token=s3cret")
	fmt.Println(check.Check(context.Background()))
	// Output: checks: HTTP: GET http://127.0.0.1:1/health: dial tcp 127.0.0.1:1: connect: connection refused
}

func ExampleDNS() {
	status(checks.DNS("localhost"))
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
	reg.Register(health.Readiness, "postgres", checks.SQL(db), health.CheckOptions{Every: 10 * time.Second})
	// Or with a query instead of a ping:
	reg.Register(health.Readiness, "orders-table", checks.SQL(db, checks.SQLQuery("SELECT 1 FROM orders LIMIT 1")))
}

// pool stands in for a client with a Ping method, such as a
// *pgxpool.Pool.
type pool struct{}

func (pool) Ping(context.Context) error { return nil }

func ExamplePing() {
	var p pool // a *pgxpool.Pool, say
	status(checks.Ping(p))
	// Output: pass
}

func ExamplePingFunc() {
	// With go-redis: checks.PingFunc(func(ctx context.Context) error { return rdb.Ping(ctx).Err() })
	ping := func(ctx context.Context) error {
		return errors.New("dial redis://:hunter2@10.0.0.7:6379: connection refused")
	}
	reg := health.New(health.Options{ShowDetails: func(*http.Request) bool { return true }})
	defer reg.Close()
	reg.Register(health.Readiness, "redis", checks.PingFunc(ping))

	// The registry redacts what it serves (and logs).
	rec := httptest.NewRecorder()
	reg.Handler(health.Readiness).ServeHTTP(rec, httptest.NewRequest("GET", "/readyz/redis?verbose", nil))
	for line := range strings.Lines(rec.Body.String()) {
		if strings.Contains(line, "redis") {
			fmt.Print(line)
		}
	}
	// Output: [-]redis failed: checks: Ping: dial redis://:xxxxx@10.0.0.7:6379: connection refused
}

func ExampleGoroutines() {
	reg := health.New()
	defer reg.Close()
	fmt.Println(reg.Register(health.Liveness, "goroutines", checks.Goroutines(10000)))

	rep, _ := reg.Check(context.Background(), health.Liveness)
	fmt.Println(rep.Status)
	// Output:
	// <nil>
	// pass
}

func ExampleMemory() {
	reg := health.New()
	defer reg.Close()
	// Below a 1 GiB container limit, so that a leak ends in a clean restart
	// rather than an OOM kill.
	reg.Register(health.Liveness, "heap", checks.Memory(checks.HeapMemory, 800<<20))

	rep, _ := reg.Check(context.Background(), health.Liveness)
	fmt.Println(rep.Status)
	// Output: pass
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
	status(checks.TLSCertFile(path, 30*24*time.Hour), health.CheckOptions{NonCritical: true})
	// Output: pass
}

func ExampleTLSCertEndpoint() {
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	defer srv.Close()

	addr := srv.Listener.Addr().String()
	status(checks.TLSCertEndpoint(addr, 30*24*time.Hour))
	// Output: pass
}
