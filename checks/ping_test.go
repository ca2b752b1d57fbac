package checks_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/probekit/probekit/checks"
	"github.com/probekit/probekit/health"
)

type fakeClient struct{ err error }

func (c *fakeClient) Ping(context.Context) error { return c.err }

func TestPingPasses(t *testing.T) {
	if err := checks.Ping(&fakeClient{}).Check(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	requirePass(t, checks.Ping(&fakeClient{}))
}

// TestPingFails: the check's error wraps the client's, which a registry
// redacts wherever it logs or serves it.
func TestPingFails(t *testing.T) {
	sentinel := errors.New("server selection error: mongodb://admin:hunter2@127.0.0.1:27017/?authSource=admin&tlsCertificateKeyFilePassword=pw123")
	for _, check := range []health.Checker{
		checks.Ping(&fakeClient{err: sentinel}),
		checks.PingFunc(func(context.Context) error { return sentinel }),
	} {
		err := check.Check(testCtx(t))
		requireFail(t, err, "Ping")
		if !errors.Is(err, sentinel) {
			t.Fatalf("%v does not wrap the client's error", err)
		}
		requireRedacted(t, check, "hunter2", "pw123")
	}
}

func TestPingHonoursContext(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	err := checks.PingFunc(func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }).Check(ctx)
	requireFail(t, err, "Ping")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v", err)
	}
}

func TestPingInvalidConfiguration(t *testing.T) {
	var nilClient *fakeClient
	for _, check := range []health.Checker{
		checks.Ping(nil),
		checks.Ping(nilClient), // would panic on its first run if accepted
		checks.PingFunc(nil),
	} {
		requireFail(t, check.Check(testCtx(t)), "Ping")
	}
}
