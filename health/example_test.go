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
	"github.com/probekit/probekit/health/healthtest"
)

// get serves one request to h and returns the status code and body.
func get(h http.Handler, target string) (int, string) {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, target, nil))
	return w.Code, strings.TrimSpace(w.Body.String())
}

// The quick start: register checks, mount them on the mux the service
// already has, and turn readiness on from code once warm.
func Example() {
	reg := health.New(health.Options{StartNotReady: "warming up"})
	defer reg.Close()

	_ = reg.Register(health.Liveness, "goroutines", health.CheckFunc(func(ctx context.Context) error { return nil }))
	_ = reg.Register(health.Readiness, "cache", health.CheckFunc(func(ctx context.Context) error { return nil }))

	mux := http.NewServeMux()
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "hello") })
	if err := reg.Mount(mux); err != nil {
		panic(err)
	}

	live, _ := get(mux, "/")
	ready, _ := get(mux, "/ready")
	fmt.Println("before:", live, ready)

	reg.MarkReady() // warm-up done
	ready, _ = get(mux, "/ready")
	fmt.Println("after:", ready)
	// Output:
	// before: 200 503
	// after: 200
}

// A dependency check may only join readiness, and runs behind a circuit
// breaker. Every moves it off the probe's path: probes read its latest
// result.
func ExampleDependencyFunc() {
	reg := health.New()
	defer reg.Close()

	ln, _ := net.Listen("tcp", "127.0.0.1:0") // stands in for a database
	defer ln.Close()
	postgres := health.DependencyFunc(func(ctx context.Context) error {
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", ln.Addr().String())
		if err != nil {
			return err
		}
		return conn.Close()
	})
	fmt.Println("readiness:", reg.Register(health.Readiness, "postgres", postgres, health.CheckOptions{Every: 10 * time.Second}))
	err := reg.Register(health.Liveness, "postgres-live", postgres)
	fmt.Println("liveness:", errors.Is(err, health.ErrDependencyGroup))

	// Wait for the background check's first result.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _ = healthtest.Wait(ctx, reg, health.Readiness, health.StatusPass)
	rep, _ := reg.Check(ctx, health.Readiness, "postgres")
	c := rep.Checks[0]
	fmt.Println(c.Name, c.Status, c.Breaker.State)
	// Output:
	// readiness: <nil>
	// liveness: true
	// postgres pass closed
}

// The application sends its own calls through the dependency's breaker, so
// that failures of real traffic take the pod out of rotation at once, and
// an open breaker spares the dependency the probes' calls too.
func ExampleBreaker_Execute() {
	reg := health.New()
	defer reg.Close()
	_ = reg.Register(health.Readiness, "users-api", health.DependencyFunc(func(ctx context.Context) error { return nil }))
	b, _ := reg.Breaker("users-api")

	for range 3 { // BreakerSettings.Failures defaults to 3
		fmt.Println(b.Execute(func() error { return errors.New("503 from users-api") }))
	}
	var name string
	err := b.Execute(func() error { name = "ada"; return nil })
	fmt.Printf("%q %v\n", name, errors.Is(err, health.ErrBreakerOpen))
	code, _ := get(reg.Handler(health.Readiness), "/readyz")
	fmt.Println(code)
	// Output:
	// 503 from users-api
	// 503 from users-api
	// 503 from users-api
	// "" true
	// 503
}

// Failure reasons are withheld from HTTP responses unless ShowDetails
// allows them, here for requests that carry a token.
func ExampleOptions_showDetails() {
	reg := health.New(health.Options{ShowDetails: func(r *http.Request) bool {
		return r.Header.Get("X-Health-Token") == "s3cret"
	}})
	defer reg.Close()
	_ = reg.Register(health.Readiness, "db", health.CheckFunc(func(ctx context.Context) error {
		return errors.New("dial tcp db.internal:5432: connection refused")
	}))
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

// A check reports a degraded state with Warn: the group answers 200.
func ExampleWarn() {
	reg := health.New()
	defer reg.Close()
	_ = reg.Register(health.Readiness, "queue", health.CheckFunc(func(ctx context.Context) error {
		if depth := 1200; depth > 1000 {
			return health.Warn(fmt.Errorf("queue depth %d", depth))
		}
		return nil
	}))
	code, body := get(reg.Handler(health.Readiness), "/readyz")
	fmt.Println(code, strings.Contains(body, `"status":"warn"`))
	// Output:
	// 200 true
}

// Drain starts a graceful shutdown: readiness fails at once, liveness keeps
// passing, and the server keeps serving while endpoints are updated.
func ExampleRegistry_Drain() {
	reg := health.New()
	defer reg.Close()

	_ = reg.Drain(context.Background(), 10*time.Millisecond) // 5-10 s in production
	reg.MarkReady()                                          // too late: Drain is final
	live, _ := get(reg.Handler(health.Liveness), "/")
	ready, _ := get(reg.Handler(health.Readiness), "/ready")
	fmt.Println(live, ready, reg.Latest(health.Readiness).Draining)
	// Then srv.Shutdown(ctx), and reg.Close().

	// Output:
	// 200 503 true
}

// Mount under a prefix leaves the application's own home page alone.
func ExampleRegistry_Mount() {
	reg := health.New()
	defer reg.Close()
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "home") })

	fmt.Println(reg.Mount(mux) != nil) // "/" is taken
	fmt.Println(reg.Mount(mux, health.MountOptions{Prefix: "/health"}))
	for _, path := range []string{"/", "/health/", "/health/readyz"} {
		code, body := get(mux, path)
		fmt.Println(path, code, body[:min(len(body), 17)])
	}
	// Output:
	// true
	// <nil>
	// / 200 home
	// /health/ 200 {"status":"pass",
	// /health/readyz 200 {"status":"pass",
}

// Routes gives the same set of paths to routers other than ServeMux.
func ExampleRegistry_Routes() {
	reg := health.New()
	defer reg.Close()
	routes, _ := reg.Routes(health.MountOptions{Prefix: "/health", Paths: []string{"/livez", "/readyz", "/readyz/{check}"}})
	for _, rt := range routes {
		fmt.Println(rt.Path, rt.PerCheck, rt.Group)
	}
	// Output:
	// /health/livez false liveness
	// /health/readyz false readiness
	// /health/readyz/ true readiness
}

// An observer learns of every run and change, for metrics and status pages.
func ExampleRegistry_AddObserver() {
	reg := health.New()
	defer reg.Close()
	changes := make(chan health.Event, 16)
	remove := reg.AddObserver(eventsTo(changes))
	defer remove()

	reg.MarkBroken("worker deadlocked")
	for range 3 {
		ev := <-changes
		fmt.Println(ev.Group, ev.Check, ev.From, "->", ev.To)
	}
	// Output:
	// liveness alive pass -> fail
	// liveness  pass -> fail
	// readiness  pass -> fail
}

type eventsTo chan health.Event

func (c eventsTo) ObserveEvent(ev health.Event) { c <- ev }
func (c eventsTo) ObserveRun(health.Run)        {}

// Contract describes the registry for tools that lint manifests against it.
func ExampleRegistry_Contract() {
	reg := health.New()
	defer reg.Close()
	_ = reg.Register(health.Readiness, "db", health.DependencyFunc(func(ctx context.Context) error { return nil }),
		health.CheckOptions{Timeout: time.Second})
	_ = reg.Mount(http.NewServeMux(), health.MountOptions{Paths: []string{"/ready"}})
	c := reg.Contract()
	fmt.Println(c.HTTP.Routes[0].Path, c.HTTP.Routes[0].Group)
	fmt.Println(c.Checks[0].Name, c.Checks[0].Timeout, c.Checks[0].Breaker.Failures, c.Checks[0].Breaker.Open)
	// Output:
	// /ready readiness
	// db 1s 3 30s
}
