package checks_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/probekit/probekit/checks"
	"github.com/probekit/probekit/health"
	"github.com/probekit/probekit/internal/hostile"
)

// hostileTimeout is the context timeout of a check run against a hostile
// server or client.
const hostileTimeout = 700 * time.Millisecond

// slack is what a run may take beyond its timeout on a loaded machine. It
// bounds the tests; it never decides a verdict.
const slack = 2 * time.Second

// runWithin runs check with a context of hostileTimeout and fails the test
// if it took longer than that plus slack.
func runWithin(t *testing.T, check health.Checker) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), hostileTimeout)
	defer cancel()
	start := time.Now()
	err := check.Check(ctx)
	if took := time.Since(start); took > hostileTimeout+slack {
		t.Errorf("took %v, more than its timeout %v plus %v of slack", took, hostileTimeout, slack)
	}
	return err
}

func TestHTTPHostile(t *testing.T) {
	t.Parallel()
	for _, b := range hostile.HTTPBehaviors {
		t.Run(b.String(), func(t *testing.T) {
			t.Parallel()
			err := runWithin(t, checks.HTTP(hostile.URL(t, b)))
			if b.HTTP().Passes {
				if err != nil {
					t.Fatalf("got %v, want a pass", err)
				}
				return
			}
			requireFail(t, err, "HTTP")
			t.Log(err)
		})
	}
	// The same with a caller's client, whose connections the check does
	// not dial: the context and closing the body must do.
	t.Run("own client", func(t *testing.T) {
		t.Parallel()
		for _, b := range []hostile.Behavior{hostile.SwitchProtocols, hostile.StalledBody, hostile.SlowDrip, hostile.EndlessInformational} {
			client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
			requireFail(t, runWithin(t, checks.HTTP(hostile.URL(t, b), checks.HTTPClient(client))), "HTTP")
		}
	})
}

// TestTCPHostile: a connect that never completes fails in time; anything
// that accepts passes, since the check only connects.
func TestTCPHostile(t *testing.T) {
	t.Parallel()
	requireFail(t, runWithin(t, checks.TCP(hostile.ListenFull(t))), "TCP")
	for _, b := range []hostile.Behavior{hostile.AcceptNeverRead, hostile.SwitchProtocols} {
		if err := runWithin(t, checks.TCP(hostile.Listen(t, b))); err != nil {
			t.Errorf("%v: %v", b, err)
		}
	}
}

func TestDNSHostile(t *testing.T) {
	t.Parallel()
	for _, b := range hostile.DNSBehaviors {
		t.Run(b.String(), func(t *testing.T) {
			t.Parallel()
			check := checks.DNS("svc.probekit.test.", checks.DNSResolver(hostile.Resolver(t, b)))
			requireFail(t, runWithin(t, check), "DNS")
		})
	}
}

// TestTLSCertEndpointHostile: a server whose handshake never finishes, or
// that does not speak TLS, fails in time.
func TestTLSCertEndpointHostile(t *testing.T) {
	t.Parallel()
	for _, b := range []hostile.Behavior{hostile.TLSHandshakeStall, hostile.AcceptNeverRead, hostile.ResetOnAccept, hostile.Garbage, hostile.SlowDrip} {
		t.Run(b.String(), func(t *testing.T) {
			t.Parallel()
			requireFail(t, runWithin(t, checks.TLSCertEndpoint(hostile.Listen(t, b), 0)), "TLS")
		})
	}
	t.Run("connect never completes", func(t *testing.T) {
		t.Parallel()
		requireFail(t, runWithin(t, checks.TLSCertEndpoint(hostile.ListenFull(t), 0)), "TLS")
	})
}
