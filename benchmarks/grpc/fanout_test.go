package grpcbench_test

import (
	"context"
	"testing"
	"time"

	"github.com/probekit/probekit/benchmarks/internal/fanout"
)

// TestWatchFanOut puts 10,000 Watch streams of "" on one grpchealth
// server over loopback (2,000 under the race detector, which allows 8,128
// goroutines: a stream takes one on each side) and checks that one change
// reaches every stream as its next message. The time it takes is logged,
// never asserted; cmd/watchfanout measures it with grpc-go beside.
func TestWatchFanOut(t *testing.T) {
	n := 10000
	if raceEnabled {
		n = 2000
	}
	sub, err := fanout.GRPCHealth(10)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := fanout.Run(ctx, sub, n, 10, 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if res.Received != n {
		t.Fatalf("the change reached %d of %d streams", res.Received, n)
	}
	t.Logf("%d streams: %.1f KiB per idle stream (client and server), idle CPU %v in %v, the change reached all in %v",
		n, res.BytesPerWatcher/1024, res.IdleCPU, res.Idle, res.Change)
}
