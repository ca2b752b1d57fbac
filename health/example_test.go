package health_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/probekit/probekit/health"
)

// get serves one request to h and returns the status code and body.
func get(h http.Handler, target string) (int, string) {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, target, nil))
	return w.Code, strings.TrimSpace(w.Body.String())
}

// The quick start: register checks, mount them on the mux the service
// already has, and flip readiness from code.
func Example() {
	reg := health.New(health.StartNotReady("warming up"))
	defer reg.Close()

	_ = reg.Register(health.Liveness, "goroutines", func(ctx context.Context) error { return nil })
	_ = reg.Register(health.Readiness, "cache", func(ctx context.Context) error { return nil })

	mux := http.NewServeMux()
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "hello") })
	if err := reg.Mount(mux); err != nil {
		panic(err)
	}

	live, _ := get(mux, "/")
	ready, _ := get(mux, "/ready")
	fmt.Println("before:", live, ready)

	reg.SetReady(true) // warm-up done
	ready, _ = get(mux, "/ready")
	fmt.Println("after:", ready)
	// Output:
	// before: 200 503
	// after: 200
}

// A dependency check may only join readiness, and runs behind a circuit
// breaker. Every moves it off the probe's path: probes read its latest
// result.
func ExampleDependency() {
	reg := health.New()
	defer reg.Close()

	ln, _ := net.Listen("tcp", "127.0.0.1:0") // stands in for a database
	defer ln.Close()
	err := reg.Register(health.Readiness, "postgres", func(ctx context.Context) error {
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", ln.Addr().String())
		if err != nil {
			return err
		}
		return conn.Close()
	}, health.Dependency(), health.Every(10*time.Second))
	fmt.Println("readiness:", err)

	err = reg.Register(health.Liveness, "postgres-live", func(ctx context.Context) error { return nil }, health.Dependency())
	fmt.Println("liveness:", errors.Is(err, health.ErrDependencyGroup))

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rep, _ := reg.WaitFor(ctx, health.Readiness, health.StatusPass)
	for _, c := range rep.Checks {
		if c.Breaker != nil {
			fmt.Println(c.Name, c.Status, c.Breaker.State)
		}
	}
	// Output:
	// readiness: <nil>
	// liveness: true
	// postgres pass closed
}

// The application sends its own calls through the dependency's breaker, so
// that failures of real traffic take the pod out of rotation at once, and
// an open breaker spares the dependency the probes' calls too.
func ExampleCall() {
	reg := health.New()
	defer reg.Close()
	_ = reg.Register(health.Readiness, "users-api", func(ctx context.Context) error { return nil }, health.Dependency())
	b, _ := reg.Breaker("users-api")

	for range health.DefaultBreakerFailures {
		_, err := health.Call(b, func() (string, error) { return "", errors.New("503 from users-api") })
		fmt.Println(err)
	}
	_, err := health.Call(b, func() (string, error) { return "ada", nil })
	fmt.Println(err)
	code, _ := get(reg.Handler(health.Readiness), "/readyz")
	fmt.Println(b.State(), code)
	// Output:
	// 503 from users-api
	// 503 from users-api
	// 503 from users-api
	// circuit breaker is open
	// open 503
}

// Failure reasons are withheld from HTTP responses unless ShowDetails
// allows them, here for requests that carry a token.
func ExampleShowDetails() {
	reg := health.New(health.ShowDetails(func(r *http.Request) bool {
		return r.Header.Get("X-Health-Token") == "s3cret"
	}))
	defer reg.Close()
	_ = reg.Register(health.Readiness, "db", func(ctx context.Context) error {
		return errors.New("dial tcp db.internal:5432: connection refused")
	})
	h := reg.Handler(health.Readiness)

	_, body := get(h, "/readyz?verbose")
	fmt.Println(strings.Split(body, "\n")[0])

	w := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/readyz?verbose", nil)
	req.Header.Set("X-Health-Token", "s3cret")
	h.ServeHTTP(w, req)
	fmt.Println(strings.Split(w.Body.String(), "\n")[0])
	// Output:
	// [-]db failed: reason withheld
	// [-]db failed: dial tcp db.internal:5432: connection refused
}

// A check reports a measurement with Observe, and a degraded state with
// Warn.
func ExampleObserve() {
	reg := health.New()
	defer reg.Close()
	_ = reg.Register(health.Readiness, "queue", func(ctx context.Context) error {
		depth := 1200
		health.Observe(ctx, depth, "messages")
		if depth > 1000 {
			return health.Warn(fmt.Errorf("queue depth %d", depth))
		}
		return nil
	})
	code, body := get(reg.Handler(health.Readiness), "/readyz")
	fmt.Println(code, strings.Contains(body, `"observedValue":1200,"observedUnit":"messages"`))
	fmt.Println(strings.Contains(body, `"status":"warn"`))
	// Output:
	// 200 true
	// true
}

// Drain starts a graceful shutdown: readiness fails at once, liveness keeps
// passing, and the server keeps serving while endpoints are updated.
func ExampleRegistry_Drain() {
	reg := health.New()
	defer reg.Close()
	srv := httptest.NewServer(nil)
	defer srv.Close()

	_ = reg.Drain(context.Background(), 10*time.Millisecond) // 5-10 s in production
	live, _ := get(reg.Handler(health.Liveness), "/")
	ready, _ := get(reg.Handler(health.Readiness), "/ready")
	fmt.Println(live, ready)
	// Then: srv.Shutdown(ctx); reg.Close()
	// Output:
	// 200 503
}

// WaitFor lets a test wait for a background check to settle without
// sleeping.
func ExampleRegistry_WaitFor() {
	reg := health.New()
	defer reg.Close()
	_ = reg.Register(health.Readiness, "cache-warm", func(ctx context.Context) error { return nil },
		health.Every(time.Minute))

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rep, err := reg.WaitFor(ctx, health.Readiness, health.StatusPass)
	fmt.Println(rep.Status, err)
	// Output:
	// pass <nil>
}

// Hooks see every status change, with the reason, outside any lock.
func ExampleOnStatusChange() {
	changes := make(chan health.Event, 16)
	reg := health.New(health.OnStatusChange(func(ev health.Event) {
		if ev.Check == "" { // group changes only
			changes <- ev
		}
	}))
	defer reg.Close()
	for range 3 { // registration's first statuses: liveness, readiness, startup
		<-changes
	}
	reg.MarkBroken("worker deadlocked")
	ev := <-changes
	fmt.Println(ev.Group, ev.From, "->", ev.To)
	ev = <-changes
	fmt.Println(ev.Group, ev.From, "->", ev.To)
	// Output:
	// liveness pass -> fail
	// readiness pass -> fail
}
