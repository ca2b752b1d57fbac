package checks_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/probekit/probekit/checks"
	"github.com/probekit/probekit/health"
)

func TestDNSResolvesLocalhost(t *testing.T) {
	for _, check := range []health.Checker{
		checks.DNS("localhost"),
		checks.DNS("localhost", checks.DNSResolver(&net.Resolver{PreferGo: true})),
		checks.DNS("localhost", checks.DNSResolver((*net.Resolver)(nil))), // nil *net.Resolver is the default
	} {
		if err := check.Check(testCtx(t)); err != nil {
			t.Fatal(err)
		}
	}
	requirePass(t, checks.DNS("localhost"))
}

func TestDNSMinAddrs(t *testing.T) {
	err := checks.DNS("localhost", checks.DNSMinAddrs(1000)).Check(testCtx(t))
	requireFail(t, err, "DNS")
	if !strings.Contains(err.Error(), "want at least 1000") {
		t.Fatalf("got %v", err)
	}
	three := fakeResolver(func(context.Context, string) ([]string, error) {
		return []string{"10.0.0.1", "10.0.0.2", "10.0.0.3"}, nil
	})
	if err := checks.DNS("db", checks.DNSResolver(three), checks.DNSMinAddrs(3)).Check(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	requireFail(t, checks.DNS("db", checks.DNSResolver(three), checks.DNSMinAddrs(4)).Check(testCtx(t)), "DNS")
}

type fakeResolver func(ctx context.Context, host string) ([]string, error)

func (f fakeResolver) LookupHost(ctx context.Context, host string) ([]string, error) {
	return f(ctx, host)
}

func TestDNSFailures(t *testing.T) {
	notFound := fakeResolver(func(_ context.Context, host string) ([]string, error) {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	})
	err := checks.DNS("db.invalid", checks.DNSResolver(notFound)).Check(testCtx(t))
	requireFail(t, err, "DNS")
	var de *net.DNSError
	if !errors.As(err, &de) || !strings.Contains(err.Error(), "db.invalid") {
		t.Fatalf("got %v, want the *net.DNSError naming the host", err)
	}

	empty := fakeResolver(func(context.Context, string) ([]string, error) { return nil, nil })
	requireFail(t, checks.DNS("db", checks.DNSResolver(empty)).Check(testCtx(t)), "DNS")
}

func TestDNSHonoursContext(t *testing.T) {
	blocking := fakeResolver(func(ctx context.Context, _ string) ([]string, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	})
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	err := checks.DNS("db", checks.DNSResolver(blocking)).Check(ctx)
	requireFail(t, err, "DNS")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v", err)
	}
}

func TestDNSInvalidConfiguration(t *testing.T) {
	var nilFake *nilResolver
	for _, check := range []health.Checker{
		checks.DNS(""),
		checks.DNS("localhost", checks.DNSResolver(nil)),
		checks.DNS("localhost", checks.DNSResolver(nilFake)),
		checks.DNS("localhost", checks.DNSMinAddrs(0)),
	} {
		requireFail(t, check.Check(testCtx(t)), "DNS")
	}
}

type nilResolver struct{}

func (*nilResolver) LookupHost(context.Context, string) ([]string, error) { return nil, nil }
