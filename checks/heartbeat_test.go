package checks_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/probekit/probekit/checks"
	"github.com/probekit/probekit/health"
)

func TestHeartbeatPassesWithinWindow(t *testing.T) {
	hb := checks.NewHeartbeat(time.Hour)
	if err := hb.Check().Check(testCtx(t)); err != nil {
		t.Fatal(err) // the window counts from construction
	}
	hb.Beat()
	if err := hb.Check().Check(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	requirePass(t, hb.Check())
}

// A loop that never beats fails the check one window after construction;
// polled with a deadline rather than slept for.
func TestHeartbeatFailsWithoutBeats(t *testing.T) {
	hb := checks.NewHeartbeat(time.Millisecond)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	ctx := testCtx(t)
	for {
		err := hb.Check().Check(ctx)
		if err != nil {
			requireFail(t, err, "Heartbeat")
			if !strings.Contains(err.Error(), "no beat since start") {
				t.Fatalf("got %v", err)
			}
			return
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			t.Fatal("the check never failed")
		}
	}
}

func TestHeartbeatBeatDoesNotAllocate(t *testing.T) {
	hb := checks.NewHeartbeat(time.Minute)
	if n := testing.AllocsPerRun(1000, hb.Beat); n != 0 {
		t.Fatalf("Beat allocates %v times", n)
	}
}

func TestHeartbeatConcurrentUse(t *testing.T) {
	hb := checks.NewHeartbeat(time.Hour)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				hb.Beat()
			}
		})
		wg.Go(func() {
			for range 100 {
				if err := hb.Check().Check(t.Context()); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestHeartbeatInvalid(t *testing.T) {
	var zero checks.Heartbeat
	var nilHB *checks.Heartbeat
	for _, check := range []health.Checker{zero.Check(), nilHB.Check(), checks.NewHeartbeat(0).Check(), checks.NewHeartbeat(-time.Second).Check()} {
		requireRefused(t, check, "Heartbeat")
	}
	zero.Beat() // must not panic
}
