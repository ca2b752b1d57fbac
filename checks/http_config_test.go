package checks_test

import (
	"net/http"
	"testing"

	"github.com/probekit/probekit/checks"
	"github.com/probekit/probekit/health"
	"github.com/probekit/probekit/probe"
)

func TestHTTPHeaders(t *testing.T) {
	type seen struct{ host, auth, custom, agent string }
	got := make(chan seen, 1)
	ts := server(t, func(w http.ResponseWriter, r *http.Request) {
		got <- seen{r.Host, r.Header.Get("Authorization"), r.Header.Get("X-Probe"), r.UserAgent()}
	})
	check := checks.HTTP(ts.URL,
		checks.HTTPHeader("Authorization", "Bearer t0ken"),
		checks.HTTPHeader("X-Probe", "1"),
		checks.HTTPHeader("Host", "api.example.test"))
	if err := check.Check(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	want := seen{"api.example.test", "Bearer t0ken", "1", probe.UserAgent}
	if s := <-got; s != want {
		t.Fatalf("server saw %+v, want %+v", s, want)
	}
}

func TestHTTPInvalidConfiguration(t *testing.T) {
	for name, check := range map[string]health.Checker{
		"empty":        checks.HTTP(""),
		"no host":      checks.HTTP("http:///path"),
		"relative":     checks.HTTP("/healthz"),
		"nil client":   checks.HTTP("http://127.0.0.1/", checks.HTTPClient(nil)),
		"no status":    checks.HTTP("http://127.0.0.1/", checks.HTTPExpectStatus()),
		"bad status":   checks.HTTP("http://127.0.0.1/", checks.HTTPExpectStatus(200, 99)),
		"nil matcher":  checks.HTTP("http://127.0.0.1/", checks.HTTPExpectBody(nil)),
		"empty header": checks.HTTP("http://127.0.0.1/", checks.HTTPHeader("", "v")),
	} {
		err := check.Check(testCtx(t))
		requireFail(t, err, "HTTP")
		t.Logf("%s: %v", name, err)
	}
}
