package httpprobe_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/probekit/probekit/internal/hostile"
	"github.com/probekit/probekit/internal/httpprobe"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestParseURL(t *testing.T) {
	for _, ok := range []string{"http://127.0.0.1/", "https://svc:8443/ready?x=1", "http://u:p@h/", "http://[::1]:80/"} {
		u, err := httpprobe.ParseURL(ok)
		if err != nil || u.Host == "" {
			t.Errorf("ParseURL(%q) = %v, %v", ok, u, err)
		}
	}
	for raw, want := range map[string]string{
		"":                            "empty URL",
		"127.0.0.1:80/ready":          "invalid URL",
		"/ready":                      "no scheme",
		"ftp://u:s3cret9@127.0.0.1/":  "scheme must be http or https",
		"http://":                     "no host",
		"http://u:s3cret9@[::1/":      "invalid URL",
		"http://u:s3cret9@h:port9x/":  "invalid URL: invalid port",
		"http://h/%zzs3cret9":         "invalid URL: invalid URL escape",
		"http:s3cret9":                "scheme://host/path",
		"http://a b/":                 "invalid URL",
		"http://u:s3cret9@h/\x7fpath": "invalid URL",
	} {
		_, err := httpprobe.ParseURL(raw)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseURL(%q) = %v, want an error containing %q", raw, err, want)
			continue
		}
		if strings.Contains(err.Error(), "s3cret9") || strings.Contains(err.Error(), "port9x") {
			t.Errorf("ParseURL(%q): error %q quotes the URL", raw, err)
		}
	}
}

func TestShown(t *testing.T) {
	u, _ := url.Parse("https://user:pw@svc:8443/a%2Fb/c?token=t#frag")
	if got, want := httpprobe.Shown(u), "https://svc:8443/a%2Fb/c"; got != want {
		t.Errorf("Shown = %q, want %q", got, want)
	}
	if httpprobe.Shown(nil) != "" {
		t.Error("Shown(nil) is not empty")
	}
}

func TestJudge(t *testing.T) {
	for code, want := range map[int]httpprobe.Verdict{
		100: httpprobe.Failure, 101: httpprobe.Failure, 199: httpprobe.Failure, 200: httpprobe.Success, 299: httpprobe.Success,
		300: httpprobe.Warning, 304: httpprobe.Warning, 399: httpprobe.Warning, 400: httpprobe.Failure, 503: httpprobe.Failure, 0: httpprobe.Failure,
	} {
		if got := httpprobe.Judge(code); got != want {
			t.Errorf("Judge(%d) = %v, want %v", code, got, want)
		}
	}
}

// TestCheckRedirect: the kubelet's redirectChecker compares host names
// exactly and fails the tenth redirect.
func TestCheckRedirect(t *testing.T) {
	req := func(raw string) *http.Request {
		u, _ := url.Parse(raw)
		return &http.Request{URL: u}
	}
	first := req("http://svc:80/a")
	if err := httpprobe.CheckRedirect(req("https://svc:8443/b"), []*http.Request{first}); err != nil {
		t.Errorf("same host name, other port and scheme: %v", err)
	}
	if err := httpprobe.CheckRedirect(req("http://SVC/b"), []*http.Request{first}); !errors.Is(err, http.ErrUseLastResponse) {
		t.Errorf("another spelling of the host: %v, want ErrUseLastResponse as the kubelet", err)
	}
	via := make([]*http.Request, 9)
	for i := range via {
		via[i] = first
	}
	if err := httpprobe.CheckRedirect(req("http://svc/b"), via); err != nil {
		t.Errorf("ninth redirect: %v", err)
	}
	if err := httpprobe.CheckRedirect(req("http://svc/b"), append(via, first)); err == nil || !strings.Contains(err.Error(), "stopped after 10 redirects") {
		t.Errorf("tenth redirect: %v", err)
	}
}

// TestGetOwnClientHostile: a caller's client without any timeout of its own
// still returns by the deadline, since the body is closed when it passes
// and a 101's connection is never read.
func TestGetOwnClientHostile(t *testing.T) {
	t.Parallel()
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	for _, b := range []hostile.Behavior{hostile.SwitchProtocols, hostile.StalledBody, hostile.SlowDrip} {
		u, err := httpprobe.ParseURL(hostile.URL(t, b))
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		res, err := httpprobe.Get(t.Context(), 500*time.Millisecond, httpprobe.Request{URL: u, Client: client})
		if took := time.Since(start); took > 500*time.Millisecond+2*time.Second {
			t.Errorf("%v: took %v", b, took)
		}
		if want := b.HTTP(); res.StatusCode != want.StatusCode || (err != nil && res.StatusCode != 0) != want.BodyError {
			t.Errorf("%v: got %+v, %v; want %+v", b, res, err, want)
		}
	}
}

// TestGetTimeoutError: a timeout matches context.DeadlineExceeded whichever
// timer noticed it, and says how long it waited.
func TestGetTimeoutError(t *testing.T) {
	t.Parallel()
	u, _ := httpprobe.ParseURL(hostile.URL(t, hostile.NoResponse))
	_, err := httpprobe.Get(context.Background(), 200*time.Millisecond, httpprobe.Request{URL: u})
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "timed out after 200ms") {
		t.Fatalf("got %v", err)
	}
}

func TestGetRefusesBadRequests(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	if _, err := httpprobe.Get(t.Context(), 0, httpprobe.Request{URL: u}); err == nil {
		t.Error("a zero timeout was accepted")
	}
	if _, err := httpprobe.Get(t.Context(), time.Second, httpprobe.Request{}); err == nil {
		t.Error("a nil URL was accepted")
	}
}
