package grpcbench_test

import (
	"context"
	"testing"
	"time"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/probekit/probekit/grpchealth"
)

// listNames is how many names List answers: grpc-go's limit, and
// grpchealth's default MaxList.
const listNames = grpchealth.DefaultMaxList

// BenchmarkList times one List of 100 names, called in-process, and
// reports its cost per name (ns/name) to set beside BenchmarkCheck:
//
//	lib=grpc-go     grpc-go's health server with "" and 99 names set
//	                SERVING
//	lib=grpchealth  grpchealth's, for a registry of 96 background checks
//	                in readiness: with "", "liveness", "readiness" and
//	                "startup", 100 names
func BenchmarkList(b *testing.B) {
	b.Run("names=100/lib=grpc-go", func(b *testing.B) {
		names := []string{""} // NewServer sets it
		for i := range listNames - 1 {
			names = append(names, checkName(i))
		}
		benchList(b, grpcGo(names...).List)
	})
	b.Run("names=100/lib=grpchealth", func(b *testing.B) {
		reg, _ := registry(b, listNames-4, background)
		benchList(b, probekit(b, reg).List)
	})
}

func benchList(b *testing.B, list func(context.Context, *healthpb.HealthListRequest) (*healthpb.HealthListResponse, error)) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	req := &healthpb.HealthListRequest{}
	check := func(resp *healthpb.HealthListResponse, err error) bool {
		if err != nil || len(resp.GetStatuses()) != listNames {
			return false
		}
		for _, st := range resp.GetStatuses() {
			if st.GetStatus() != healthpb.HealthCheckResponse_SERVING {
				return false
			}
		}
		return true
	}
	if resp, err := list(ctx, req); !check(resp, err) {
		b.Fatalf("List = %d names, %v; want %d, all SERVING", len(resp.GetStatuses()), err, listNames)
	}
	bad := 0
	b.ReportAllocs()
	for b.Loop() {
		resp, err := list(ctx, req)
		if err != nil || len(resp.GetStatuses()) != listNames {
			bad++
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/listNames, "ns/name")
	if bad > 0 {
		b.Fatalf("%d of %d timed calls did not answer %d names", bad, b.N, listNames)
	}
}
