package checks_test

import (
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/probekit/probekit/checks"
	"github.com/probekit/probekit/health"
)

func TestHTTPOwnClient(t *testing.T) {
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	ts.Config.ErrorLog = log.New(io.Discard, "", 0) // the failing handshake below is expected
	ts.StartTLS()
	t.Cleanup(ts.Close)
	if err := checks.HTTP(ts.URL, checks.HTTPClient(ts.Client())).Check(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	// The default client does not trust the test server's certificate.
	requireFail(t, checks.HTTP(ts.URL).Check(testCtx(t)), "HTTP")
}

// bodyCounter counts the response bodies its transport hands out and the
// ones closed.
type bodyCounter struct {
	rt             http.RoundTripper
	opened, closed atomic.Int32
}

func (b *bodyCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := b.rt.RoundTrip(r)
	if err == nil {
		b.opened.Add(1)
		resp.Body = &countedBody{ReadCloser: resp.Body, closed: &b.closed}
	}
	return resp, err
}

type countedBody struct {
	io.ReadCloser
	closed *atomic.Int32
	once   sync.Once
}

func (c *countedBody) Close() error {
	c.once.Do(func() { c.closed.Add(1) })
	return c.ReadCloser.Close()
}

func TestHTTPClosesEveryBody(t *testing.T) {
	var ts *httptest.Server
	ts = server(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/fail":
			w.WriteHeader(http.StatusServiceUnavailable)
		case "/same":
			http.Redirect(w, r, "/", http.StatusFound)
		case "/other":
			http.Redirect(w, r, localhostURL(ts)+"/", http.StatusFound)
		default:
			io.WriteString(w, strings.Repeat("x", 20<<10))
		}
	})
	counter := &bodyCounter{rt: &http.Transport{DisableKeepAlives: true}}
	client := &http.Client{Transport: counter}
	reject := checks.HTTPExpectBody(func([]byte) error { return errors.New("no") })
	for _, check := range []health.Checker{
		checks.HTTP(ts.URL+"/", checks.HTTPClient(client)),
		checks.HTTP(ts.URL+"/fail", checks.HTTPClient(client)),
		checks.HTTP(ts.URL+"/same", checks.HTTPClient(client)),
		checks.HTTP(ts.URL+"/other", checks.HTTPClient(client)),
		checks.HTTP(ts.URL+"/", checks.HTTPClient(client), reject),
	} {
		check.Check(testCtx(t))
	}
	if o, c := counter.opened.Load(), counter.closed.Load(); o != 6 || c != o {
		t.Fatalf("%d bodies opened, %d closed; want 6 and 6", o, c)
	}
	if client.CheckRedirect != nil {
		t.Fatal("HTTPClient modified the caller's client")
	}
}
