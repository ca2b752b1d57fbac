package checks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/probekit/probekit/health"
)

const (
	// maxHTTPBody is how much of a response body the check reads, as the
	// kubelet does: enough for a status document, and a huge or endless
	// body cannot hold the check up or fill memory.
	maxHTTPBody = 10 << 10
	// maxHTTPRedirects caps the redirects followed, like net/http's
	// default policy, so that a redirect loop fails instead of spinning.
	maxHTTPRedirects = 10
)

// An HTTPOption configures an HTTP check.
type HTTPOption func(*httpConfig)

type httpConfig struct {
	client    *http.Client
	clientSet bool
	header    http.Header
	headerErr string
	statuses  []int
	statusSet bool
	body      func([]byte) error
	bodySet   bool
}

// HTTPClient makes the check send its requests with a shallow copy of c,
// for TLS settings, a proxy, or a transport with instrumentation. If
// c.CheckRedirect is nil the copy gets the check's own redirect policy
// (same host only, at most 10); otherwise c's policy applies. The check
// closes every response body, but idle connections c keeps alive are c's to
// close. A nil c makes every run fail.
//
// Without HTTPClient, the check uses a client of its own, made once by HTTP,
// whose transport takes the proxy from the environment and disables
// keep-alives, as the kubelet's prober does: every run opens a fresh
// connection, so no connection and no goroutine outlives a run, and a
// probe cannot pass on a connection made before the network broke.
func HTTPClient(c *http.Client) HTTPOption {
	return func(cfg *httpConfig) { cfg.client, cfg.clientSet = c, true }
}

// HTTPHeader adds a header to every request; it may be given several times,
// and "Host" sets the request's Host. Header values never appear in the
// check's errors. An empty key makes every run fail.
func HTTPHeader(key, value string) HTTPOption {
	return func(cfg *httpConfig) {
		if key == "" || strings.ContainsAny(key, " :\r\n\t") {
			cfg.headerErr = fmt.Sprintf("invalid header name %q", key)
			return
		}
		if cfg.header == nil {
			cfg.header = make(http.Header)
		}
		cfg.header.Add(key, value)
	}
}

// HTTPExpectStatus makes the check pass only for the given status codes,
// instead of any status from 200 to 399. A code outside 100 to 599, or no
// code at all, makes every run fail.
func HTTPExpectStatus(codes ...int) HTTPOption {
	return func(cfg *httpConfig) { cfg.statuses, cfg.statusSet = slices.Clone(codes), true }
}

// HTTPExpectBody makes the check call match with the start of the response
// body (at most 10 KiB) once the status has passed, and fail with match's
// error, if any. match may be called concurrently when the check is. A nil
// match makes every run fail.
func HTTPExpectBody(match func(body []byte) error) HTTPOption {
	return func(cfg *httpConfig) { cfg.body, cfg.bodySet = match, true }
}

// HTTP returns a check that GETs rawURL and passes, as the kubelet's HTTP
// probe does, on a status from 200 to 399 (see HTTPExpectStatus). It follows
// at most 10 redirects, and only to the same host name (on any port or
// scheme).
// It does not follow a redirect to another host, since the kubelet does not
// either and another host's health says nothing about this dependency: it
// reports the redirect as a warning (health.Warn), which is what the kubelet
// does too. It reads at most 10 KiB of the body and always closes it. The
// check observes the time to the end of what it read, in milliseconds.
//
// The check's errors name the URL without its userinfo, query or fragment,
// and never include header values, so credentials in any of those stay out
// of logs. Userinfo is still sent, as basic authentication.
//
// HTTP is a dependency check: register it in readiness only, with
// health.Dependency. The check is safe for concurrent use. A URL that does
// not parse, is not http or https, or has no host, and invalid options, make
// every run fail with an error starting "checks: HTTP:".
func HTTP(rawURL string, opts ...HTTPOption) health.CheckFunc {
	var cfg httpConfig
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	if rawURL == "" {
		return invalid("HTTP", "empty URL")
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		// The *url.Error would quote the whole URL, credentials included.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return invalid("HTTP", "invalid URL: %s", redact(err.Error()))
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return invalid("HTTP", "URL scheme must be http or https, got %q", u.Scheme)
	case u.Host == "":
		return invalid("HTTP", "URL has no host")
	case cfg.headerErr != "":
		return invalid("HTTP", "%s", cfg.headerErr)
	case cfg.clientSet && cfg.client == nil:
		return invalid("HTTP", "nil *http.Client")
	case cfg.statusSet && len(cfg.statuses) == 0:
		return invalid("HTTP", "no expected status")
	case cfg.bodySet && cfg.body == nil:
		return invalid("HTTP", "nil body matcher")
	}
	for _, code := range cfg.statuses {
		if code < 100 || code > 599 {
			return invalid("HTTP", "invalid expected status %d", code)
		}
	}
	h := &httpCheck{
		url:      u.String(),
		host:     u.Hostname(),
		shown:    "GET " + (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}).String(),
		header:   cfg.header,
		statuses: cfg.statuses,
		body:     cfg.body,
	}
	if cfg.client != nil {
		c := *cfg.client
		if c.CheckRedirect == nil {
			c.CheckRedirect = sameHostRedirects
		}
		h.client = &c
	} else {
		h.client = &http.Client{
			Transport: &http.Transport{
				Proxy:             http.ProxyFromEnvironment,
				DisableKeepAlives: true,
			},
			CheckRedirect: sameHostRedirects,
		}
	}
	return h.run
}

type httpCheck struct {
	client   *http.Client
	url      string // as given, userinfo and query included
	host     string // host name of url, for the redirect policy
	shown    string // method and url without secrets, for errors
	header   http.Header
	statuses []int
	body     func([]byte) error
}

// sameHostRedirects follows redirects to the host name of the first
// request only; returning ErrUseLastResponse hands the redirect response
// itself back to the check, which then reports it.
func sameHostRedirects(req *http.Request, via []*http.Request) error {
	if !strings.EqualFold(req.URL.Hostname(), via[0].URL.Hostname()) {
		return http.ErrUseLastResponse
	}
	if len(via) > maxHTTPRedirects {
		return fmt.Errorf("stopped after %d redirects", maxHTTPRedirects)
	}
	return nil
}

func (h *httpCheck) run(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.url, nil)
	if err != nil {
		return h.fail(err)
	}
	if h.header != nil {
		req.Header = h.header.Clone()
		if host := req.Header.Get("Host"); host != "" {
			req.Host = host
			req.Header.Del("Host")
		}
	}
	if _, ok := req.Header["User-Agent"]; !ok {
		req.Header.Set("User-Agent", "probekit")
	}
	start := time.Now()
	resp, err := h.client.Do(req)
	if err != nil {
		// The *url.Error quotes the URL with its query; keep what it wraps.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return h.fail(err)
	}
	defer resp.Body.Close()
	body, readErr := io.ReadAll(io.LimitReader(resp.Body, maxHTTPBody))
	observeSince(ctx, start)

	elsewhere := h.otherHost(resp)
	if !h.statusOK(resp.StatusCode) {
		if elsewhere != "" {
			return failf("HTTP", "%s: status %s (redirect to other host %s not followed)", h.shown, statusText(resp.StatusCode), elsewhere)
		}
		return failf("HTTP", "%s: status %s", h.shown, statusText(resp.StatusCode))
	}
	if readErr != nil {
		return h.fail(fmt.Errorf("reading body: %w", readErr))
	}
	if h.body != nil {
		if err := h.body(body); err != nil {
			return wrap("HTTP", h.shown+": unexpected body", err)
		}
	}
	if elsewhere != "" {
		return health.Warn(failf("HTTP", "%s: status %s: redirect to other host %s not followed", h.shown, statusText(resp.StatusCode), elsewhere))
	}
	return nil
}

func (h *httpCheck) fail(err error) error { return wrap("HTTP", h.shown, err) }

func (h *httpCheck) statusOK(code int) bool {
	if h.statuses != nil {
		return slices.Contains(h.statuses, code)
	}
	return code >= 200 && code < 400
}

// otherHost returns the host a redirect response points to, if that is not
// the check's host (the redirect was then not followed), or "".
func (h *httpCheck) otherHost(resp *http.Response) string {
	if resp.StatusCode < 300 || resp.StatusCode >= 400 {
		return ""
	}
	loc, err := resp.Location()
	if err != nil || strings.EqualFold(loc.Hostname(), h.host) {
		return ""
	}
	return loc.Host
}

func statusText(code int) string {
	if t := http.StatusText(code); t != "" {
		return fmt.Sprintf("%d %s", code, t)
	}
	return fmt.Sprint(code)
}
