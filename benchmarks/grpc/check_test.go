package grpcbench_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// BenchmarkCheck times one grpc.health.v1 Check, called in-process, for
// the server as a whole ("", svc=server) and for one check by its name
// (svc=check), on a readiness group of 1 or 10 instant checks:
//
//	lib=grpc-go      google.golang.org/grpc/health's Server.Check, its
//	                 map set by SetServingStatus (background mode only:
//	                 it runs no checks)
//	lib=grpchealth   probekit's grpchealth Server.Check
//	lib=http         probekit's HTTP handler for the same registry
//	                 (ServeHTTP with an allocation-free ResponseWriter)
//	lib=reg-check    health.Registry.Check and its report's status: what
//	                 grpchealth's Check did before this version
//	lib=reg-latest   health.Registry.Latest and its report's status: the
//	                 one public status source that runs nothing
//
// Compare with go tool benchstat -col /lib. Every subject must answer
// SERVING (200) before and while it is timed, and in on-request mode every
// probekit subject must run the checks at each call.
func BenchmarkCheck(b *testing.B) {
	for _, n := range []int{1, 10} {
		for _, mode := range []string{background, onRequest} {
			for _, svc := range []string{"server", "check"} {
				name := ""
				if svc == "check" {
					name = checkName(n - 1)
				}
				prefix := fmt.Sprintf("checks=%d/mode=%s/svc=%s", n, mode, svc)
				if mode == background {
					b.Run(prefix+"/lib=grpc-go", func(b *testing.B) {
						benchCheck(b, grpcGo("", name).Check, name, nil)
					})
				}
				b.Run(prefix+"/lib=grpchealth", func(b *testing.B) {
					reg, runs := registry(b, n, mode)
					benchCheck(b, probekit(b, reg).Check, name, wantRuns(mode, runs))
				})
				b.Run(prefix+"/lib=http", func(b *testing.B) {
					reg, runs := registry(b, n, mode)
					benchCheck(b, httpChecker(b, reg), name, wantRuns(mode, runs))
				})
				b.Run(prefix+"/lib=reg-check", func(b *testing.B) {
					reg, runs := registry(b, n, mode)
					benchCheck(b, registryChecker(reg), name, wantRuns(mode, runs))
				})
				if mode == background {
					b.Run(prefix+"/lib=reg-latest", func(b *testing.B) {
						reg, _ := registry(b, n, mode)
						benchCheck(b, latestChecker(reg), name, nil)
					})
				}
			}
		}
	}
}

// runCounter returns the runs of the checks so far.
type runCounter func() int64

// wantRuns is, in on-request mode, the counter of the checks' runs, which
// must grow at every call; nil in background mode.
func wantRuns(mode string, runs interface{ Load() int64 }) runCounter {
	if mode != onRequest {
		return nil
	}
	return runs.Load
}

// benchCheck times check for service. A gRPC call's context can always be
// cancelled: so is the one given here.
func benchCheck(b *testing.B, check checker, service string, runs runCounter) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	req := &healthpb.HealthCheckRequest{Service: service}
	verify := func(when string) {
		var before int64
		if runs != nil {
			before = runs()
		}
		for range 3 {
			resp, err := check(ctx, req)
			if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
				b.Fatalf("%s: Check(%q) = %v, %v; want SERVING", when, service, resp, err)
			}
		}
		if runs != nil && runs()-before < 3 {
			b.Fatalf("%s: 3 calls ran the checks %d times: on-request checks must run at each", when, runs()-before)
		}
	}
	verify("before timing")
	bad := 0
	b.ReportAllocs()
	for b.Loop() {
		resp, err := check(ctx, req)
		if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			bad++
		}
	}
	if bad > 0 {
		b.Fatalf("%d of %d timed calls did not answer SERVING", bad, b.N)
	}
	verify("after timing")
}
