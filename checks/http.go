package checks

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/probekit/probekit/health"
	"github.com/probekit/probekit/internal/httpprobe"
)

// httpFallbackTimeout bounds a run whose context has no deadline. The
// registry always gives one (the check's timeout); a direct call may not,
// and an HTTP exchange must never wait for as long as the server likes.
const httpFallbackTimeout = 10 * time.Second

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
// c.CheckRedirect is nil the copy gets the kubelet's redirect policy (same
// host name only; the tenth redirect fails); otherwise c's policy applies.
// c's transport must honour the request's context: the check cannot put
// its deadline on connections it does not dial, although it does close the
// response body when the context ends. The check closes every response
// body, but idle connections c keeps alive are c's to close. A nil c is a
// misconfiguration that Register refuses (health.ErrMisconfigured).
//
// Without HTTPClient, each run uses a transport of its own, the kubelet's:
// no proxy (the environment's proxy settings are ignored), no keep-alive,
// no compression, and the run's deadline on its connection; unlike the
// kubelet's, it verifies HTTPS certificates against the system's roots
// (pass a client for other roots or for none). Every run thus
// opens a fresh connection, no connection or goroutine outlives a run, and
// a probe cannot pass on a connection made before the network broke.
func HTTPClient(c *http.Client) HTTPOption {
	return func(cfg *httpConfig) { cfg.client, cfg.clientSet = c, true }
}

// HTTPHeader adds a header to every request; it may be given several times,
// and "Host" sets the request's Host. "User-Agent" and "Accept" replace the
// defaults (the kubelet's, see probe.UserAgent, and "*/*"), and an empty
// value removes them. Header values never appear in the check's errors. A
// key that is not an HTTP token, or a value with a control character but a
// tab (as net/http refuses), is a misconfiguration that Register refuses.
func HTTPHeader(key, value string) HTTPOption {
	return func(cfg *httpConfig) {
		if err := httpprobe.ValidHeader(key, value); err != nil {
			if cfg.headerErr == "" {
				cfg.headerErr = err.Error()
			}
			return
		}
		if cfg.header == nil {
			cfg.header = make(http.Header)
		}
		cfg.header.Add(key, value)
	}
}

// HTTPExpectStatus makes the check pass, without a warning, for exactly the
// given status codes and fail for any other, instead of the kubelet's
// verdict (200 to 299 pass, 300 to 399 warn). A code outside 100 to 599, or
// no code at all, is a misconfiguration that Register refuses.
func HTTPExpectStatus(codes ...int) HTTPOption {
	return func(cfg *httpConfig) { cfg.statuses, cfg.statusSet = slices.Clone(codes), true }
}

// HTTPExpectBody makes the check call match with the start of the response
// body (at most 10 KiB) once the status has passed, and fail with match's
// error, if any. match may be called concurrently when the check is. A nil
// match is a misconfiguration that Register refuses.
func HTTPExpectBody(match func(body []byte) error) HTTPOption {
	return func(cfg *httpConfig) { cfg.body, cfg.bodySet = match, true }
}

// HTTP returns a check that GETs rawURL the way the kubelet's HTTP probe
// does (package probe's HTTPGet runs the same code) and passes on a status
// from 200 to 299 (see HTTPExpectStatus). A status from 300 to 399, a
// redirect that was not followed or a 304, is a warning (health.Warn), as
// the kubelet reports it; anything else fails, 101 Switching Protocols
// included. Redirects are followed only to the same host name, compared
// exactly as the kubelet compares it (any port or scheme), and the tenth
// redirect fails: another host's health says nothing about this
// dependency. The check reads at most 10 KiB of the body, always closes it,
// and observes the time to the end of what it read, in milliseconds.
//
// A run ends by the deadline of its context (the registry's timeout, or 10
// s if the context has none) whatever the server does: stalled or endless
// headers and bodies, repeated 1xx responses, a protocol switch that holds
// the connection, resets, or a TLS handshake that never finishes.
//
// The check's errors name the URL without its userinfo, query or fragment,
// and never include header values, so credentials in any of those stay out
// of logs. Userinfo is still sent, as basic authentication.
//
// HTTP is a dependency check, a health.DependencyFunc: readiness only
// (Register refuses it elsewhere with health.ErrDependencyGroup), behind a
// circuit breaker. The check is safe for concurrent use. A URL that does
// not parse, is not http or https, or has no host, and invalid options, are
// a misconfiguration: Register refuses the check with an error matching
// health.ErrMisconfigured.
func HTTP(rawURL string, opts ...HTTPOption) health.Checker {
	var cfg httpConfig
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	u, err := httpprobe.ParseURL(rawURL)
	switch {
	case err != nil:
		return misconfigured("HTTP", "%v", err)
	case cfg.headerErr != "":
		return misconfigured("HTTP", "%s", cfg.headerErr)
	case cfg.clientSet && cfg.client == nil:
		return misconfigured("HTTP", "nil *http.Client")
	case cfg.statusSet && len(cfg.statuses) == 0:
		return misconfigured("HTTP", "no expected status")
	case cfg.bodySet && cfg.body == nil:
		return misconfigured("HTTP", "nil body matcher")
	}
	for _, code := range cfg.statuses {
		if code < 100 || code > 599 {
			return misconfigured("HTTP", "invalid expected status %d", code)
		}
	}
	h := &httpCheck{
		req: httpprobe.Request{
			URL: u, Header: cfg.header, Client: cfg.client,
			// Unlike the kubelet, verify: a dependency whose certificate
			// clients reject is not healthy for them.
			TLSConfig: &tls.Config{},
		},
		shown:    "GET " + httpprobe.Shown(u),
		statuses: cfg.statuses,
		body:     cfg.body,
	}
	return health.DependencyFunc(h.run)
}

type httpCheck struct {
	req      httpprobe.Request
	shown    string // method and URL without secrets, for errors
	statuses []int
	body     func([]byte) error
}

func (h *httpCheck) run(ctx context.Context) error {
	timeout := httpFallbackTimeout
	if d, ok := ctx.Deadline(); ok {
		timeout = time.Until(d)
	}
	if timeout <= 0 {
		return wrap("HTTP", h.shown, context.DeadlineExceeded)
	}
	res, err := httpprobe.Get(ctx, timeout, h.req)
	if res.StatusCode == 0 {
		return wrap("HTTP", "", err) // the error names the request
	}

	status := statusText(res.StatusCode)
	verdict := httpprobe.Judge(res.StatusCode)
	if h.statuses != nil {
		if !slices.Contains(h.statuses, res.StatusCode) {
			return failf("HTTP", "%s: status %s%s", h.shown, status, h.notFollowed(res))
		}
		verdict = httpprobe.Success
	}
	if verdict == httpprobe.Failure {
		return failf("HTTP", "%s: status %s", h.shown, status)
	}
	if err != nil { // a body that could not be read
		return wrap("HTTP", "", err)
	}
	if h.body != nil {
		if err := h.body(res.Body); err != nil {
			return wrap("HTTP", h.shown+": unexpected body", err)
		}
	}
	if verdict == httpprobe.Warning {
		return health.Warn(failf("HTTP", "%s: status %s%s", h.shown, status, h.notFollowed(res)))
	}
	return nil
}

// notFollowed says where a 3xx that came back pointed, if anywhere.
func (h *httpCheck) notFollowed(res httpprobe.Response) string {
	if res.Location == "" {
		return ""
	}
	u, err := url.Parse(res.Location)
	switch {
	case err != nil || u.Host == "":
		return ": redirect not followed"
	case u.Hostname() != h.req.URL.Hostname():
		return ": redirect to other host " + u.Host + " not followed"
	}
	return ": redirect to " + u.Host + " not followed"
}

func statusText(code int) string {
	if t := http.StatusText(code); t != "" {
		return fmt.Sprintf("%d %s", code, t)
	}
	return fmt.Sprint(code)
}
