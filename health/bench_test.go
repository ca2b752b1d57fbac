package health_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"

	"github.com/sony/gobreaker/v2"
	"golang.org/x/sync/singleflight"

	"github.com/probekit/probekit/health"
	"github.com/probekit/probekit/health/healthtest"
)

// discardWriter is a ResponseWriter that allocates nothing: it reuses its
// header map, so that a benchmark measures the handler, not the recorder.
type discardWriter struct {
	h    http.Header
	code int
	n    int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) WriteHeader(code int)        { w.code = code }
func (w *discardWriter) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }
func (w *discardWriter) reset()                      { clear(w.h); w.code, w.n = 0, 0 }

// benchHandler measures GET /readyz on h and checks the last answer.
func benchHandler(b *testing.B, h http.Handler, wantCode int) {
	req := httptest.NewRequest(http.MethodGet, "/readyz", nil)
	w := &discardWriter{h: make(http.Header)}
	h.ServeHTTP(w, req) // runs the checks once, fills the cache
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		w.reset()
		h.ServeHTTP(w, req)
	}
	if w.code == 0 { // the handler wrote without WriteHeader: net/http sends 200
		w.code = http.StatusOK
	}
	if w.code != wantCode || w.n == 0 {
		b.Fatalf("got %d with %d bytes, want %d", w.code, w.n, wantCode)
	}
}

// benchRegistry returns a registry whose readiness group holds n instant
// checks with opts, settled.
func benchRegistry(b *testing.B, n int, opts health.CheckOptions) *health.Registry {
	b.Helper()
	r := health.New()
	b.Cleanup(func() { _ = r.Close() })
	for i := range n {
		if err := r.Register(health.Readiness, fmt.Sprintf("check-%05d", i), passing, opts); err != nil {
			b.Fatal(err)
		}
	}
	healthtest.WaitStatus(b, r, health.Readiness, health.StatusPass)
	return r
}

// BenchmarkProbe measures a readiness probe (ServeHTTP, default GET) of n
// instant checks that run on request, for n from 1 to 10,000 (the cost
// per check, ns/op divided by n, should stay flat), and of 10 background
// checks (CheckOptions.Every), served from their latest results.
//
//	go test -run '^$' -bench 'Probe$' -benchmem -count 6 ./health
func BenchmarkProbe(b *testing.B) {
	for _, n := range []int{1, 10, 100, 1000, 10000} {
		b.Run(fmt.Sprintf("checks=%d", n), func(b *testing.B) {
			benchHandler(b, benchRegistry(b, n, health.CheckOptions{}).Handler(health.Readiness), http.StatusOK)
		})
	}
	b.Run("background=10", func(b *testing.B) {
		benchHandler(b, benchRegistry(b, 10, health.CheckOptions{Every: time.Hour}).Handler(health.Readiness), http.StatusOK)
	})
}

// BenchmarkSingleflightPerCheck is the natural alternative to the engine's
// hand-made sharing of runs (flight.go), for docs/performance.md: what an
// engine built on singleflight.DoChan, one call per check with a standard
// context.WithTimeout, does for a probe of 10 instant checks, before any
// rendering. Compare it with BenchmarkEvaluate/checks=10 (the engine's
// same work) and BenchmarkProbe/checks=10 (the whole probe).
//
//	go test -run '^$' -bench 'SingleflightPerCheck|Evaluate|Probe$' -benchmem ./health
func BenchmarkSingleflightPerCheck(b *testing.B) {
	const n = 10
	var g singleflight.Group
	names := make([]string, n)
	checks := make([]health.Checker, n)
	for i := range names {
		names[i] = fmt.Sprintf("check-%05d", i)
		checks[i] = passing
	}
	chans := make([]<-chan singleflight.Result, n)
	b.ReportAllocs()
	for b.Loop() {
		for i, name := range names {
			c := checks[i]
			chans[i] = g.DoChan(name, func() (any, error) {
				ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
				defer cancel()
				return nil, c.Check(ctx)
			})
		}
		for _, ch := range chans {
			if res := <-ch; res.Err != nil {
				b.Fatal(res.Err)
			}
		}
	}
}

// BenchmarkFastPath compares a default GET on a readiness group of 10
// background checks, served from a cached rendering, with the yardstick: a
// bare handler writing a constant body.
//
//	go test -run '^$' -bench FastPath -benchmem -count 10 ./health > bench.txt
//	benchstat -col /handler bench.txt
func BenchmarkFastPath(b *testing.B) {
	body := []byte(`{"status":"pass"}`)
	b.Run("handler=bare", func(b *testing.B) {
		benchHandler(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(body)
		}), http.StatusOK)
	})
	b.Run("handler=probekit", func(b *testing.B) {
		benchHandler(b, benchRegistry(b, 10, health.CheckOptions{Every: time.Hour}).Handler(health.Readiness), http.StatusOK)
	})
}

// BenchmarkOnRequest is a readiness probe of one passing check that runs
// on request.
func BenchmarkOnRequest(b *testing.B) {
	benchHandler(b, benchRegistry(b, 1, health.CheckOptions{}).Handler(health.Readiness), http.StatusOK)
}

// BenchmarkOpenBreaker is a readiness probe whose only check is an
// on-request dependency that is down, with its breaker open: the probe
// answers without touching the network.
func BenchmarkOpenBreaker(b *testing.B) {
	r := health.New()
	b.Cleanup(func() { _ = r.Close() })
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	dead := l.Addr().String()
	_ = l.Close()
	if err := r.Register(health.Readiness, "db", health.DependencyFunc(func(ctx context.Context) error {
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", dead)
		if err == nil {
			_ = c.Close()
		}
		return err
	})); err != nil {
		b.Fatal(err)
	}
	for range 3 {
		_, _ = r.Check(context.Background(), health.Readiness)
	}
	rep, _ := r.Check(context.Background(), health.Readiness)
	for _, c := range rep.Checks {
		if c.Name == "db" && (c.Breaker.State != gobreaker.StateOpen || !errors.Is(c.Err, health.ErrBreakerOpen)) {
			b.Fatalf("the breaker is not open: %v %v", c.Breaker.State, c.Err)
		}
	}
	benchHandler(b, r.Handler(health.Readiness), http.StatusServiceUnavailable)
}

// BenchmarkRegister measures registering n checks on a new registry, for n
// from 1 to 10,000 (New and Close excluded), and reports the heap each
// registered check keeps (retained-B/check: the live heap after GC, less
// that of the empty registries, divided by n).
//
//	go test -run '^$' -bench 'Register$' -benchmem -count 6 ./health
func BenchmarkRegister(b *testing.B) {
	for _, n := range []int{1, 10, 100, 1000, 10000} {
		b.Run(fmt.Sprintf("checks=%d", n), func(b *testing.B) {
			names := make([]string, n)
			for i := range names {
				names[i] = fmt.Sprintf("check-%05d", i)
			}
			// Registries are made and closed in batches, off the clock, so
			// that stopping the clock costs nothing per registry.
			batch := max(1, 1000/n)
			regs := make([]*health.Registry, 0, batch)
			var retained float64
			b.ReportAllocs()
			b.StopTimer()
			for done := 0; done < b.N; {
				regs = regs[:0]
				for range min(batch, b.N-done) {
					regs = append(regs, health.New())
				}
				before := int64(0)
				if done == 0 {
					before = liveHeap()
				}
				b.StartTimer()
				for _, r := range regs {
					for _, name := range names {
						if err := r.Register(health.Readiness, name, passing); err != nil {
							b.Fatal(err)
						}
					}
				}
				b.StopTimer()
				if done == 0 {
					retained = float64(liveHeap()-before) / float64(n*len(regs))
				}
				for _, r := range regs {
					_ = r.Close()
				}
				done += len(regs)
			}
			b.ReportMetric(retained, "retained-B/check")
		})
	}
}

// liveHeap is the live heap after a full collection.
func liveHeap() int64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}
