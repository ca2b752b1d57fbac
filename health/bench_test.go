package health_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
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
