package checks_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/probekit/probekit/checks"
	"github.com/probekit/probekit/health"
	"github.com/probekit/probekit/probe"
)

func server(t *testing.T, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return ts
}

// localhostURL rewrites a 127.0.0.1 server URL to name the same server by
// another host name.
func localhostURL(ts *httptest.Server) string {
	return strings.Replace(ts.URL, "127.0.0.1", "localhost", 1)
}

func TestHTTPPassesOn2xxAnd3xx(t *testing.T) {
	for _, code := range []int{200, 204} {
		ts := server(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(code) })
		if err := checks.HTTP(ts.URL)(testCtx(t)); err != nil {
			t.Errorf("status %d: %v", code, err)
		}
	}
	// A 3xx that comes back is the kubelet's Warning: it passes, and says so.
	for _, code := range []int{304, 399} {
		ts := server(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(code) })
		requireWarn(t, checks.HTTP(ts.URL)(testCtx(t)), "HTTP")
	}
}

func TestHTTPFailsOnOtherStatuses(t *testing.T) {
	for _, code := range []int{400, 404, 500, 503} {
		ts := server(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(code) })
		err := checks.HTTP(ts.URL + "/healthz")(testCtx(t))
		requireFail(t, err, "HTTP")
		if want := fmt.Sprintf("GET %s/healthz: status %d", ts.URL, code); !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}

func TestHTTPObservesLatency(t *testing.T) {
	ts := server(t, func(w http.ResponseWriter, r *http.Request) {})
	requireObserved(t, checks.HTTP(ts.URL), "ms")
}

func TestHTTPExpectStatus(t *testing.T) {
	ts := server(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	if err := checks.HTTP(ts.URL, checks.HTTPExpectStatus(200, http.StatusTeapot))(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	requireFail(t, checks.HTTP(ts.URL, checks.HTTPExpectStatus(200))(testCtx(t)), "HTTP")
	// An expected 3xx passes without the warning the kubelet's verdict gives.
	notModified := server(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNotModified) })
	if err := checks.HTTP(notModified.URL, checks.HTTPExpectStatus(http.StatusNotModified))(testCtx(t)); err != nil {
		t.Fatalf("expected 304: %v", err)
	}
}

func TestHTTPExpectBody(t *testing.T) {
	ts := server(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{"status":"ok"}`) })
	contains := func(s string) func([]byte) error {
		return func(b []byte) error {
			if !bytes.Contains(b, []byte(s)) {
				return fmt.Errorf("body lacks %q", s)
			}
			return nil
		}
	}
	if err := checks.HTTP(ts.URL, checks.HTTPExpectBody(contains(`"ok"`)))(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	err := checks.HTTP(ts.URL, checks.HTTPExpectBody(contains(`"up"`)))(testCtx(t))
	requireFail(t, err, "HTTP")
	if !strings.Contains(err.Error(), `unexpected body: body lacks "\"up\""`) {
		t.Fatalf("got %v", err)
	}
}

// An endless body must neither hold the check up nor be read whole.
func TestHTTPReadsABoundedBody(t *testing.T) {
	ts := server(t, func(w http.ResponseWriter, r *http.Request) {
		chunk := bytes.Repeat([]byte("x"), 4096)
		for {
			if _, err := w.Write(chunk); err != nil {
				return // the check hung up
			}
		}
	})
	var got int
	check := checks.HTTP(ts.URL, checks.HTTPExpectBody(func(b []byte) error { got = len(b); return nil }))
	if err := check(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	if got != 10<<10 {
		t.Fatalf("matcher saw %d bytes, want 10 KiB", got)
	}
}

func TestHTTPSlowBodyTimesOut(t *testing.T) {
	ts := server(t, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "partial")
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	err := checks.HTTP(ts.URL)(ctx)
	requireFail(t, err, "HTTP")
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "reading the response body") {
		t.Fatalf("got %v, want a deadline while reading the body", err)
	}
}

func TestHTTPSlowHeadersTimeOut(t *testing.T) {
	ts := server(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	err := checks.HTTP(ts.URL)(ctx)
	requireFail(t, err, "HTTP")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want context.DeadlineExceeded", err)
	}
}

// rawServer serves each connection with handle on a loopback listener.
func rawServer(t *testing.T, handle func(net.Conn)) string {
	t.Helper()
	ln := listen(t)
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				handle(c)
			})
		}
	})
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	return ln.Addr().String()
}

// reset reads the request head and then aborts the connection with a TCP
// reset after writing prefix.
func reset(prefix string) func(net.Conn) {
	return func(c net.Conn) {
		br := bufio.NewReader(c)
		for {
			line, err := br.ReadString('\n')
			if err != nil || line == "\r\n" {
				break
			}
		}
		io.WriteString(c, prefix)
		c.(*net.TCPConn).SetLinger(0)
	}
}

func TestHTTPConnectionReset(t *testing.T) {
	addr := rawServer(t, reset(""))
	requireFail(t, checks.HTTP("http://"+addr+"/")(testCtx(t)), "HTTP")
}

func TestHTTPResetMidBody(t *testing.T) {
	addr := rawServer(t, reset("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nabc"))
	err := checks.HTTP("http://" + addr + "/")(testCtx(t))
	requireFail(t, err, "HTTP")
	if !strings.Contains(err.Error(), "reading the response body") {
		t.Fatalf("got %v, want a body read error", err)
	}
}

func TestHTTPNothingListening(t *testing.T) {
	requireFail(t, checks.HTTP("http://"+closedAddr(t)+"/")(testCtx(t)), "HTTP")
}

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
	if err := checks.HTTP(ts.URL + "/a")(testCtx(t)); err != nil {
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
	err := checks.HTTP(ts.URL + "/")(testCtx(t))
	requireWarn(t, err, "HTTP")
	requireNoSecret(t, err, "s3cret")
	if !strings.Contains(err.Error(), "redirect to other host localhost:") {
		t.Fatalf("got %v", err)
	}
	if followed.Load() {
		t.Fatal("the redirect to another host was followed")
	}
	// With an explicit expected status, the redirect response is a failure.
	requireFail(t, checks.HTTP(ts.URL+"/", checks.HTTPExpectStatus(200))(testCtx(t)), "HTTP")
}

// TestHTTPStopsAfterTenRedirects: the kubelet's redirectChecker fails when
// len(via) >= 10, at the tenth redirect: 9 are followed, 10 requests made.
func TestHTTPStopsAfterTenRedirects(t *testing.T) {
	var hits atomic.Int32
	ts := server(t, func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Redirect(w, r, "/loop", http.StatusFound)
	})
	err := checks.HTTP(ts.URL + "/loop")(testCtx(t))
	requireFail(t, err, "HTTP")
	if !strings.Contains(err.Error(), "stopped after 10 redirects") {
		t.Fatalf("got %v", err)
	}
	if n := hits.Load(); n != 10 {
		t.Fatalf("server saw %d requests, want 10 (9 redirects followed)", n)
	}
}

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
	if err := check(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	want := seen{"api.example.test", "Bearer t0ken", "1", probe.UserAgent}
	if s := <-got; s != want {
		t.Fatalf("server saw %+v, want %+v", s, want)
	}
}

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
	cases := map[string]health.CheckFunc{
		"status":  checks.HTTP(secretURL(ts.URL)),
		"header":  checks.HTTP(ts.URL, checks.HTTPHeader("Authorization", "Bearer secret-bearer")),
		"dial":    checks.HTTP(secretURL("http://" + closedAddr(t))),
		"invalid": checks.HTTP("http://user:secret@[::1/?token=s3cret"),
		"scheme":  checks.HTTP("ftp://user:secret@127.0.0.1/?token=s3cret"),
	}
	for name, check := range cases {
		err := check(testCtx(t))
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
	err := checks.HTTP(secretURL(slow.URL))(ctx)
	requireFail(t, err, "HTTP")
	requireNoSecret(t, err, "secret", "s3cret")
}

func TestHTTPOwnClient(t *testing.T) {
	ts := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	ts.Config.ErrorLog = log.New(io.Discard, "", 0) // the failing handshake below is expected
	ts.StartTLS()
	t.Cleanup(ts.Close)
	if err := checks.HTTP(ts.URL, checks.HTTPClient(ts.Client()))(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	// The default client does not trust the test server's certificate.
	requireFail(t, checks.HTTP(ts.URL)(testCtx(t)), "HTTP")
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
	for _, check := range []health.CheckFunc{
		checks.HTTP(ts.URL+"/", checks.HTTPClient(client)),
		checks.HTTP(ts.URL+"/fail", checks.HTTPClient(client)),
		checks.HTTP(ts.URL+"/same", checks.HTTPClient(client)),
		checks.HTTP(ts.URL+"/other", checks.HTTPClient(client)),
		checks.HTTP(ts.URL+"/", checks.HTTPClient(client), reject),
	} {
		check(testCtx(t))
	}
	if o, c := counter.opened.Load(), counter.closed.Load(); o != 6 || c != o {
		t.Fatalf("%d bodies opened, %d closed; want 6 and 6", o, c)
	}
	if client.CheckRedirect != nil {
		t.Fatal("HTTPClient modified the caller's client")
	}
}

func TestHTTPInvalidConfiguration(t *testing.T) {
	for name, check := range map[string]health.CheckFunc{
		"empty":        checks.HTTP(""),
		"no host":      checks.HTTP("http:///path"),
		"relative":     checks.HTTP("/healthz"),
		"nil client":   checks.HTTP("http://127.0.0.1/", checks.HTTPClient(nil)),
		"no status":    checks.HTTP("http://127.0.0.1/", checks.HTTPExpectStatus()),
		"bad status":   checks.HTTP("http://127.0.0.1/", checks.HTTPExpectStatus(200, 99)),
		"nil matcher":  checks.HTTP("http://127.0.0.1/", checks.HTTPExpectBody(nil)),
		"empty header": checks.HTTP("http://127.0.0.1/", checks.HTTPHeader("", "v")),
	} {
		err := check(testCtx(t))
		requireFail(t, err, "HTTP")
		t.Logf("%s: %v", name, err)
	}
}
