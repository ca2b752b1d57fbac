package health_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"

	"github.com/probekit/probekit/health"
)

// discardWriter is a ResponseWriter that reuses its header map, so that a
// benchmark measures the handler rather than the recorder.
type discardWriter struct {
	h    http.Header
	code int
	n    int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) WriteHeader(code int)        { w.code = code }
func (w *discardWriter) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }
func (w *discardWriter) reset()                      { clear(w.h); w.code, w.n = 0, 0 }

// settledRegistry returns a registry whose readiness group holds n
// background checks that have all reported.
func settledRegistry(b *testing.B, n int) *health.Registry {
	b.Helper()
	r := health.New()
	b.Cleanup(func() { _ = r.Close() })
	ran := make(chan struct{}, n)
	for i := range n {
		first := true
		err := r.Register(health.Readiness, fmt.Sprintf("check-%02d", i), func(ctx context.Context) error {
			if first {
				first = false
				ran <- struct{}{}
			}
			return nil
		}, health.Every(time.Hour))
		if err != nil {
			b.Fatal(err)
		}
	}
	for range n {
		<-ran
	}
	return r
}

func benchHandler(b *testing.B, h http.Handler) {
	req := httptest.NewRequest(http.MethodGet, "/ready", nil)
	w := &discardWriter{h: make(http.Header)}
	h.ServeHTTP(w, req) // warm the cache
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		w.reset()
		h.ServeHTTP(w, req)
	}
	if w.code != http.StatusOK && w.code != 0 || w.n == 0 {
		b.Fatalf("got %d with %d bytes", w.code, w.n)
	}
}

// BenchmarkFastPath compares a default GET on a readiness group of 10
// background checks, served from cached results, with the yardstick: a bare
// handler writing a constant body. Compare the two with
//
//	go test -run '^$' -bench FastPath -benchmem -count 10 ./health > bench.txt
//	benchstat -col /handler bench.txt
func BenchmarkFastPath(b *testing.B) {
	body := []byte(`{"status":"pass"}`)
	b.Run("handler=bare", func(b *testing.B) {
		benchHandler(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(body)
		}))
	})
	b.Run("handler=probekit", func(b *testing.B) {
		benchHandler(b, settledRegistry(b, 10).Handler(health.Readiness))
	})
}

// onRequestRegistry returns a registry whose readiness group holds n
// instant checks that run on request.
func onRequestRegistry(b *testing.B, n int) *health.Registry {
	b.Helper()
	r := health.New()
	b.Cleanup(func() { _ = r.Close() })
	for i := range n {
		if err := r.Register(health.Readiness, fmt.Sprintf("check-%05d", i), func(context.Context) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
	return r
}

// BenchmarkProbe measures a readiness probe (ServeHTTP, default GET) of n
// instant checks that run on request, for n from 1 to 10,000: the cost per
// check (ns/op divided by n) should stay flat.
//
//	go test -run '^$' -bench 'Probe$' -benchmem -count 6 ./health
func BenchmarkProbe(b *testing.B) {
	for _, n := range []int{1, 10, 100, 1000, 10000} {
		b.Run(fmt.Sprintf("checks=%d", n), func(b *testing.B) {
			benchHandler(b, onRequestRegistry(b, n).Handler(health.Readiness))
		})
	}
}

// BenchmarkRegister measures registering n checks on a new registry, for
// n from 1 to 10,000 (New and Close excluded), and reports the heap each
// registered check keeps (retained-B/check: the live heap after GC, less
// that of the empty registry, divided by n).
//
//	go test -run '^$' -bench 'Register$' -benchmem -count 6 ./health
func BenchmarkRegister(b *testing.B) {
	for _, n := range []int{1, 10, 100, 1000, 10000} {
		b.Run(fmt.Sprintf("checks=%d", n), func(b *testing.B) {
			names := make([]string, n)
			for i := range names {
				names[i] = fmt.Sprintf("check-%05d", i)
			}
			check := func(context.Context) error { return nil }
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
						if err := r.Register(health.Readiness, name, check); err != nil {
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
