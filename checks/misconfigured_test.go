package checks_test

import (
	"database/sql"
	"testing"
	"time"

	"github.com/probekit/probekit/checks"
	"github.com/probekit/probekit/health"
)

// TestMisconfiguredChecksAreRefused: every constructor given arguments that
// can never work returns a check that a real registry refuses at Register,
// with an error matching health.ErrMisconfigured, so that the mistake stops
// the start-up instead of failing every probe (or restarting a container in
// a loop).
func TestMisconfiguredChecksAreRefused(t *testing.T) {
	db, err := sql.Open("checks-echo", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	var nilClient *fakeClient
	var nilResolver checks.Resolver
	cases := []struct {
		kind  string
		check health.Checker
	}{
		{"TCP", checks.TCP("")},
		{"TCP", checks.TCP("db")},
		{"TCP", checks.TCP("db:")},
		{"TCP", checks.TCP("postgres://app:pw@db:5432/app")},
		{"HTTP", checks.HTTP("")},
		{"HTTP", checks.HTTP("/healthz")},
		{"HTTP", checks.HTTP("http:///healthz")},
		{"HTTP", checks.HTTP("ftp://127.0.0.1/")},
		{"HTTP", checks.HTTP("http://[::1/")},
		{"HTTP", checks.HTTP("http://127.0.0.1/", checks.HTTPClient(nil))},
		{"HTTP", checks.HTTP("http://127.0.0.1/", checks.HTTPExpectStatus())},
		{"HTTP", checks.HTTP("http://127.0.0.1/", checks.HTTPExpectStatus(200, 99))},
		{"HTTP", checks.HTTP("http://127.0.0.1/", checks.HTTPExpectBody(nil))},
		{"HTTP", checks.HTTP("http://127.0.0.1/", checks.HTTPHeader("", "v"))},
		{"HTTP", checks.HTTP("http://127.0.0.1/", checks.HTTPHeader("X A", "v"))},
		{"HTTP", checks.HTTP("http://127.0.0.1/", checks.HTTPHeader("X-A", "v\r\nX-B: w"))},
		{"DNS", checks.DNS("")},
		{"DNS", checks.DNS("localhost", checks.DNSResolver(nilResolver))},
		{"DNS", checks.DNS("localhost", checks.DNSMinAddrs(0))},
		{"SQL", checks.SQL(nil)},
		{"SQL", checks.SQL(db, checks.SQLQuery(" "))},
		{"Ping", checks.Ping(nil)},
		{"Ping", checks.Ping(nilClient)},
		{"Ping", checks.PingFunc(nil)},
		{"Goroutines", checks.Goroutines(0)},
		{"Goroutines", checks.Goroutines(-1)},
		{"Memory", checks.Memory(0, 1<<30)},
		{"Memory", checks.Memory(checks.HeapMemory, 0)},
		{"Disk", checks.Disk("", 1)},
		{"Disk", checks.Disk("/", 0)},
		{"TLS", checks.TLSCertFile("", 0)},
		{"TLS", checks.TLSCertFile("/etc/tls/tls.crt", -time.Hour)},
		{"TLS", checks.TLSCertEndpoint("", 0)},
		{"TLS", checks.TLSCertEndpoint("api.example.com", 0)},
		{"TLS", checks.TLSCertEndpoint("api.example.com:443", -time.Hour)},
		{"Heartbeat", checks.NewHeartbeat(0).Check()},
		{"Heartbeat", checks.NewHeartbeat(-time.Minute).Check()},
		{"Heartbeat", new(checks.Heartbeat).Check()},
	}
	for _, c := range cases {
		requireRefused(t, c.check, c.kind)
	}
}
