package checks_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/probekit/probekit/checks"
	"github.com/probekit/probekit/health"
)

func TestHTTPErrorsHideCredentials(t *testing.T) {
	var (
		mu               sync.Mutex
		gotUser, gotPass string
	)
	ts := server(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/private" {
			mu.Lock()
			gotUser, gotPass, _ = r.BasicAuth()
			mu.Unlock()
		}
		http.Error(w, "no", http.StatusInternalServerError)
	})
	secretURL := func(base string) string {
		return strings.Replace(base, "http://", "http://user:secret@", 1) + "/private?token=s3cret#frag"
	}
	cases := map[string]health.Checker{
		"status":  checks.HTTP(secretURL(ts.URL)),
		"header":  checks.HTTP(ts.URL, checks.HTTPHeader("Authorization", "Bearer secret-bearer")),
		"dial":    checks.HTTP(secretURL("http://" + closedAddr(t))),
		"invalid": checks.HTTP("http://user:secret@[::1/?token=s3cret"),
		"scheme":  checks.HTTP("ftp://user:secret@127.0.0.1/?token=s3cret"),
	}
	for name, check := range cases {
		err := check.Check(testCtx(t))
		requireFail(t, err, "HTTP")
		requireNoSecret(t, err, "secret", "s3cret", "frag")
		t.Logf("%s: %v", name, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if gotUser != "user" || gotPass != "secret" {
		t.Fatalf("server saw basic auth %q:%q, want the URL's userinfo", gotUser, gotPass)
	}
	// A timeout too.
	slow := server(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	err := checks.HTTP(secretURL(slow.URL)).Check(ctx)
	requireFail(t, err, "HTTP")
	requireNoSecret(t, err, "secret", "s3cret")
}
