package grpcbench_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// watchers is how many Watch streams BenchmarkWatchUpdate updates at once.
const watchers = 100

// BenchmarkWatchUpdate times one change of readiness reaching 100 Watch
// streams of "", called in-process (each stream's Send hands the message
// to the benchmark), and reports the cost per stream (ns/update) to set
// beside BenchmarkCheck:
//
//	lib=grpc-go     grpc-go's health server: SetServingStatus("", ...)
//	lib=grpchealth  grpchealth's, for a registry of 10 background checks
//	                in readiness: MarkNotReady and MarkReady in turn
func BenchmarkWatchUpdate(b *testing.B) {
	b.Run("watchers=100/lib=grpc-go", func(b *testing.B) {
		s := grpcGo("")
		flip := func(serving bool) {
			st := healthpb.HealthCheckResponse_NOT_SERVING
			if serving {
				st = healthpb.HealthCheckResponse_SERVING
			}
			s.SetServingStatus("", st)
		}
		benchWatch(b, s.Watch, flip)
	})
	b.Run("watchers=100/lib=grpchealth", func(b *testing.B) {
		reg, _ := registry(b, 10, background)
		flip := func(serving bool) {
			if serving {
				reg.MarkReady()
			} else {
				reg.MarkNotReady("benchmark")
			}
		}
		benchWatch(b, probekit(b, reg).Watch, flip)
	})
}

// fakeStream is the server side of a Watch stream, in-process: Send
// passes the status to sent.
type fakeStream struct {
	grpc.ServerStream // nil: only Context and Send are called
	ctx               context.Context
	sent              chan<- healthpb.HealthCheckResponse_ServingStatus
}

func (s *fakeStream) Context() context.Context { return s.ctx }

func (s *fakeStream) Send(m *healthpb.HealthCheckResponse) error {
	select {
	case s.sent <- m.GetStatus():
		return nil
	case <-s.ctx.Done():
		return s.ctx.Err()
	}
}

func benchWatch(b *testing.B, watch func(*healthpb.HealthCheckRequest, grpc.ServerStreamingServer[healthpb.HealthCheckResponse]) error, flip func(serving bool)) {
	ctx, cancel := context.WithCancel(context.Background())
	sent := make(chan healthpb.HealthCheckResponse_ServingStatus, watchers)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
	}()
	req := &healthpb.HealthCheckRequest{Service: ""}
	for range watchers {
		wg.Go(func() {
			if err := watch(req, &fakeStream{ctx: ctx, sent: sent}); err != nil && !errors.Is(ctx.Err(), context.Canceled) {
				b.Errorf("Watch: %v", err)
			}
		})
	}
	expect := func(want healthpb.HealthCheckResponse_ServingStatus) bool {
		ok := true
		for range watchers {
			ok = <-sent == want && ok
		}
		return ok
	}
	if !expect(healthpb.HealthCheckResponse_SERVING) {
		b.Fatal("the first messages were not all SERVING")
	}
	serving, bad := true, 0
	b.ReportAllocs()
	for b.Loop() {
		serving = !serving
		flip(serving)
		want := healthpb.HealthCheckResponse_NOT_SERVING
		if serving {
			want = healthpb.HealthCheckResponse_SERVING
		}
		if !expect(want) {
			bad++
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/watchers, "ns/update")
	if bad > 0 {
		b.Fatalf("%d of %d changes did not reach every stream as the new status", bad, b.N)
	}
}
