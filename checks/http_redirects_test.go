package checks_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/probekit/probekit/checks"
)

func TestHTTPFollowsSameHostRedirects(t *testing.T) {
	other := server(t, func(w http.ResponseWriter, r *http.Request) {}) // same host, another port
	ts := server(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/a":
			http.Redirect(w, r, "/b", http.StatusFound)
		case "/b":
			http.Redirect(w, r, other.URL+"/c", http.StatusMovedPermanently)
		default:
			w.WriteHeader(http.StatusInternalServerError)
		}
	})
	if err := checks.HTTP(ts.URL + "/a").Check(testCtx(t)); err != nil {
		t.Fatal(err)
	}
}

func TestHTTPDoesNotFollowRedirectsToAnotherHost(t *testing.T) {
	var followed atomic.Bool
	var ts *httptest.Server
	ts = server(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.Host, "localhost:") {
			followed.Store(true)
			return
		}
		http.Redirect(w, r, localhostURL(ts)+"/elsewhere?token=s3cret", http.StatusFound)
	})
	err := checks.HTTP(ts.URL + "/").Check(testCtx(t))
	requireWarn(t, err, "HTTP")
	requireNoSecret(t, err, "s3cret")
	if !strings.Contains(err.Error(), "redirect to other host localhost:") {
		t.Fatalf("got %v", err)
	}
	if followed.Load() {
		t.Fatal("the redirect to another host was followed")
	}
	// With an explicit expected status, the redirect response is a failure.
	requireFail(t, checks.HTTP(ts.URL+"/", checks.HTTPExpectStatus(200)).Check(testCtx(t)), "HTTP")
}

// TestHTTPStopsAfterTenRedirects: the kubelet's redirectChecker fails when
// len(via) >= 10, at the tenth redirect: 9 are followed, 10 requests made.
func TestHTTPStopsAfterTenRedirects(t *testing.T) {
	var hits atomic.Int32
	ts := server(t, func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Redirect(w, r, "/loop", http.StatusFound)
	})
	err := checks.HTTP(ts.URL + "/loop").Check(testCtx(t))
	requireFail(t, err, "HTTP")
	if !strings.Contains(err.Error(), "stopped after 10 redirects") {
		t.Fatalf("got %v", err)
	}
	if n := hits.Load(); n != 10 {
		t.Fatalf("server saw %d requests, want 10 (9 redirects followed)", n)
	}
}
