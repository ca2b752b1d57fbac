package benchmarks_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"go.uber.org/goleak"

	"github.com/probekit/probekit/benchmarks/internal/discard"
	"github.com/probekit/probekit/benchmarks/internal/subject"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// Workloads are the check sets every library is measured on.
var workloads = []struct {
	checks int
	kind   subject.Kind
}{
	{1, subject.Instant},
	{10, subject.Instant},
	{10, subject.Sleep1ms},
}

// BenchmarkReadiness times one readiness request served in-process (the
// handler's ServeHTTP with an allocation-free ResponseWriter) for every
// subject on every workload. Compare the libraries with
//
//	go test -run '^$' -bench '^BenchmarkReadiness$' -benchmem -count 4 . > bench.txt
//	go tool benchstat -col /lib bench.txt
//
// Every subject is verified (200, its library's passing body, checks run
// per request exactly in on-request mode) before and after it is timed,
// and every timed response must be a 200, so that a broken handler fails
// the benchmark instead of producing a figure.
func BenchmarkReadiness(b *testing.B) {
	for _, w := range workloads {
		for _, spec := range subject.Specs(w.checks, w.kind) {
			b.Run(spec.Name(), func(b *testing.B) { benchSubject(b, spec) })
		}
	}
}

func benchSubject(b *testing.B, spec subject.Spec) {
	sub, err := subject.Start(context.Background(), spec)
	if err != nil {
		b.Fatal(err)
	}
	defer sub.Close()
	if err := sub.Verify(); err != nil {
		b.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "/readyz", nil)
	w := discard.New()
	sub.Handler.ServeHTTP(w, req) // let the header map grow once
	bad, lastBad := 0, 0
	b.ReportAllocs()
	for b.Loop() {
		w.Reset()
		sub.Handler.ServeHTTP(w, req)
		if w.Code() != http.StatusOK || w.Len() == 0 {
			bad, lastBad = bad+1, w.Code()
		}
	}
	if bad > 0 {
		b.Fatalf("%d of %d timed responses were not a 200 with a body (last: %d)", bad, b.N, lastBad)
	}
	if err := sub.Verify(); err != nil {
		b.Fatalf("after timing: %v", err)
	}
}
