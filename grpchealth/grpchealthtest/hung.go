package grpchealthtest

import (
	"context"
	"sync/atomic"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

// Hung is a grpc.health.v1 service whose Check never answers: it waits
// until the caller gives up (its deadline, or cancellation) and counts the
// calls that reached it. It stands in for a dependency that accepts
// connections and then hangs, the outage circuit breakers exist for.
// Register it with grpc_health_v1.RegisterHealthServer. The zero value is
// ready to use; it is safe for concurrent use. Watch and List answer
// UNIMPLEMENTED.
type Hung struct {
	healthpb.UnimplementedHealthServer
	calls atomic.Int64
}

// Check counts the call, then waits for ctx to end and returns its error
// as a status (DEADLINE_EXCEEDED or CANCELLED).
func (h *Hung) Check(ctx context.Context, _ *healthpb.HealthCheckRequest) (*healthpb.HealthCheckResponse, error) {
	h.calls.Add(1)
	<-ctx.Done()
	return nil, status.FromContextError(ctx.Err()).Err()
}

// Calls returns how many Check calls have reached h.
func (h *Hung) Calls() int64 { return h.calls.Load() }
