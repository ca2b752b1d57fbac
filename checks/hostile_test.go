package checks_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"net/http"
	"sync"
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
func runWithin(t *testing.T, check health.CheckFunc) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), hostileTimeout)
	defer cancel()
	start := time.Now()
	err := check(ctx)
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

// stuck is a client that ignores its context until the test ends.
type stuck struct{ release chan struct{} }

func newStuck(t *testing.T) *stuck {
	s := &stuck{release: make(chan struct{})}
	t.Cleanup(func() { close(s.release) })
	return s
}

func (s *stuck) Ping(context.Context) error { <-s.release; return nil }

// TestPingIgnoringContext: the check returns when its context ends, and
// does not start a second call while the first is stuck.
func TestPingIgnoringContext(t *testing.T) {
	t.Parallel()
	s := newStuck(t)
	check := checks.Ping(s)
	err := runWithin(t, check)
	requireFail(t, err, "Ping")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want context.DeadlineExceeded", err)
	}
	err = runWithin(t, check)
	requireFail(t, err, "Ping")
	t.Log(err)
}

// stuckDriver is a database/sql driver whose every call ignores its context
// until the test ends; where in the call it sticks is chosen per DSN.
type stuckDriver struct{}

var stuckRelease = struct {
	sync.Mutex
	ch map[string]chan struct{}
}{ch: map[string]chan struct{}{}}

func releaseFor(name string) chan struct{} {
	stuckRelease.Lock()
	defer stuckRelease.Unlock()
	return stuckRelease.ch[name]
}

func (stuckDriver) Open(name string) (driver.Conn, error) {
	if name == "connect" {
		<-releaseFor(name)
		return nil, errors.New("released")
	}
	return &stuckConn{release: releaseFor(name)}, nil
}

type stuckConn struct{ release chan struct{} }

func (c *stuckConn) Prepare(string) (driver.Stmt, error) { return nil, errors.New("not supported") }
func (c *stuckConn) Close() error                        { return nil }
func (c *stuckConn) Begin() (driver.Tx, error)           { return nil, errors.New("not supported") }

func (c *stuckConn) Ping(context.Context) error { <-c.release; return nil }

func (c *stuckConn) QueryContext(context.Context, string, []driver.NamedValue) (driver.Rows, error) {
	<-c.release
	return nil, errors.New("released")
}

func init() { sql.Register("checks-stuck", stuckDriver{}) }

// TestSQLIgnoringContext: connecting, pinging or querying with a driver
// that ignores its context still ends the check in time.
func TestSQLIgnoringContext(t *testing.T) {
	t.Parallel()
	for _, where := range []string{"connect", "ping", "query"} {
		t.Run(where, func(t *testing.T) {
			t.Parallel()
			release := make(chan struct{})
			stuckRelease.Lock()
			stuckRelease.ch[where] = release
			stuckRelease.Unlock()
			db, err := sql.Open("checks-stuck", where)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			t.Cleanup(func() { close(release) }) // runs first: unblocks, then closes
			var opts []checks.SQLOption
			if where == "query" {
				opts = append(opts, checks.SQLQuery("SELECT 1"))
			}
			requireFail(t, runWithin(t, checks.SQL(db, opts...)), "SQL")
		})
	}
}
