package health

import (
	"context"
	"time"
)

// ReasonShuttingDown is the readiness reason Drain records.
const ReasonShuttingDown = "shutting down"

// Drain begins a graceful shutdown: it turns readiness off at once and for
// good (reason ReasonShuttingDown; once Drain has turned it off, no
// SetReady or MarkNotReady changes it, even one racing Drain from another
// goroutine) while liveness keeps passing, then waits delay, or
// until ctx is done, so that load balancers and EndpointSlices stop sending
// traffic before the server stops accepting it. Removal of a terminating pod
// from its endpoints runs concurrently with SIGTERM and takes seconds to
// propagate; requests keep arriving meanwhile and must still be served.
// Drain returns ctx.Err() if ctx ended the wait, nil otherwise. Shut the
// http.Server down after it:
//
//	<-sigCtx.Done()                       // SIGTERM
//	reg.Drain(context.Background(), 5*time.Second)
//	srv.Shutdown(ctx)                     // finishes in-flight requests
//	reg.Close()
func (r *Registry) Drain(ctx context.Context, delay time.Duration) error {
	if ctx == nil {
		ctx = context.Background()
	}
	r.ready.store(false, ReasonShuttingDown, true) // final: nothing turns it back on
	r.settle(nil)
	if delay <= 0 {
		return nil
	}
	t := time.NewTimer(delay)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
