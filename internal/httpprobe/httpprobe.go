// Package httpprobe is probekit's one HTTP prober: the GET that the kubelet
// makes for an httpGet probe (Kubernetes v1.37.2, pkg/probe/http/http.go and
// request.go), used by package probe (HTTPGet, and so healthprobe) and by
// package checks (HTTP). Every rule of the exchange lives here, once: the
// transport, the headers, the redirect policy, the body cap, the status
// verdict and the deadline.
//
// It differs from the kubelet only where the kubelet can be held up past its
// timeout or can leak: a final 1xx response (101 Switching Protocols) is
// judged on its status without reading the connection it hands over, every
// connection carries the probe's deadline, and errors never quote the URL's
// userinfo, query or fragment.
package httpprobe

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"
)

// MaxBody is how many bytes of a response body a probe reads, the kubelet's
// maxRespBodyLength (http.go: 10 KiB). A longer body is not read further and
// is not a failure ("Non fatal body truncation").
const MaxBody = 10 << 10

// MaxRedirects is the kubelet's redirect limit. Its redirectChecker
// (http.go) returns "stopped after 10 redirects" when len(via) >= 10, that
// is when the tenth redirect response arrives: nine redirects are followed,
// the tenth is a failure. net/http's default policy is the same.
const MaxRedirects = 10

// UserAgent is sent unless the request's headers set one. It starts like the
// kubelet's ("kube-probe/<major>.<minor>", request.go) so that servers which
// recognise probes by that prefix treat this one alike.
const UserAgent = "kube-probe/1.37 probekit"

// ErrBody is wrapped by the error of a probe whose response arrived but whose
// body could not be read (cut off, reset, or still arriving at the
// deadline). The kubelet returns such a probe as a Failure with an error.
var ErrBody = errors.New("reading the response body")

// Request is one probe. Its zero value is not usable: URL is required.
type Request struct {
	// URL is an absolute http or https URL, as ParseURL returns.
	URL *url.URL
	// Header holds extra request headers; it is not modified. A "Host"
	// entry sets the request's Host. "User-Agent" and "Accept" replace
	// the defaults (UserAgent and "*/*"); an empty value removes that
	// header, as in the kubelet.
	Header http.Header
	// TLSConfig configures HTTPS on the prober's own transport; nil means
	// the kubelet's behaviour, certificates not verified. It is cloned,
	// never modified. It is ignored when Client is set.
	TLSConfig *tls.Config
	// Client, if not nil, sends the request instead of the prober's own
	// transport: a shallow copy of it is used, with the prober's redirect
	// policy when Client.CheckRedirect is nil. Its transport must honour the
	// request's context; the prober cannot put its deadline on connections
	// it does not dial.
	Client *http.Client
}

// Response is what a probe found.
type Response struct {
	// StatusCode is the status of the last response, or 0 when none
	// arrived.
	StatusCode int
	// Location is the Location header of a 3xx response that was not
	// followed, shown without userinfo, query or fragment; "" otherwise.
	Location string
	// Body is the start of the response body, at most MaxBody bytes. The
	// body of a 1xx response is never read.
	Body []byte
	// Truncated reports that the body was longer than MaxBody.
	Truncated bool
}

// Verdict is the kubelet's judgement of a status code.
type Verdict uint8

const (
	// Failure: any status outside [200, 400), 1xx included.
	Failure Verdict = iota
	// Success: a status in [200, 300).
	Success
	// Warning: a status in [300, 400), a redirect that was not followed;
	// the kubelet counts it as a success.
	Warning
)

// Judge returns the kubelet's verdict on a status code (http.go):
// [200, 300) Success, [300, 400) Warning, anything else Failure.
func Judge(code int) Verdict {
	switch {
	case code >= 200 && code < 300:
		return Success
	case code >= 300 && code < 400:
		return Warning
	}
	return Failure
}

// Get makes one probe within timeout (a positive duration) and ctx. It
// returns a Response with StatusCode 0 and an error when no response arrived
// (refused, reset, timed out, not HTTP, too many redirects), and a
// Response with its StatusCode and an error wrapping ErrBody when the body
// could not be read. Errors name the request as "GET" and Shown(URL), never
// the userinfo, query or fragment. Get returns within timeout (plus the time
// to close a connection) whatever the server does, as long as Client, if
// set, honours the request's context. It is safe for concurrent use.
func Get(ctx context.Context, timeout time.Duration, r Request) (Response, error) {
	if r.URL == nil || timeout <= 0 {
		return Response{}, errors.New("httpprobe: a URL and a positive timeout are required")
	}
	start := time.Now()
	// Connections carry the probe's own deadline, not an earlier one of
	// ctx: the transport honours ctx by itself, and a socket deadline
	// firing a moment before ctx is done would pass the caller's
	// cancellation off as the target's failure.
	own := start.Add(timeout)
	deadline := own
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	// timedOut says so plainly, whichever of the client's timer, the
	// context or the connection's deadline noticed first.
	timedOut := func(err error) error {
		if time.Now().Before(deadline) {
			return err
		}
		return &timeoutError{after: deadline.Sub(start).Round(time.Millisecond), err: err}
	}
	req, err := newRequest(ctx, r.URL, r.Header)
	if err != nil {
		return Response{}, fmt.Errorf("GET %s: %w", Shown(r.URL), err)
	}

	client := ownClient(timeout, own, r.TLSConfig)
	if r.Client != nil {
		c := *r.Client
		if c.CheckRedirect == nil {
			c.CheckRedirect = CheckRedirect
		}
		client = &c
	}

	res, err := client.Do(req)
	if err != nil {
		return Response{}, fmt.Errorf("GET %s: %w", Shown(r.URL), timedOut(unwrapURLError(err)))
	}
	// Closing the body interrupts a read that the transport would not
	// interrupt itself, such as one from a client whose transport ignores
	// the context; the prober's own connections also carry the deadline.
	stop := context.AfterFunc(ctx, func() { res.Body.Close() })
	defer func() {
		stop()
		res.Body.Close()
	}()

	out := Response{StatusCode: res.StatusCode}
	if Judge(res.StatusCode) == Warning {
		if loc, err := res.Location(); err == nil {
			out.Location = Shown(loc)
		}
	}
	if res.StatusCode < 200 {
		// A final 1xx is 101 Switching Protocols, whose "body" is the raw
		// connection, open for as long as the server likes. The kubelet
		// would wait on it; its status is the whole answer.
		return out, nil
	}
	out.Body, out.Truncated, err = readAtMost(res.Body, MaxBody)
	if err != nil {
		return out, fmt.Errorf("GET %s: %w of a %d response: %w", Shown(r.URL), ErrBody, res.StatusCode, timedOut(err))
	}
	return out, nil
}

// ownClient is the kubelet's client (http.go, NewWithTLSConfig): no proxy,
// no keep-alive, no compression, its dialer's SO_LINGER, and HTTP/2 over TLS
// when the server offers it. A transport per probe costs little next to the
// new connection that DisableKeepAlives forces anyway, and it leaves nothing
// idle behind. Every connection carries the deadline, so that no exchange
// the transport does not time out itself (a hijacked connection, a stalled
// HTTP/2 stream) can outlive the probe.
func ownClient(timeout time.Duration, deadline time.Time, cfg *tls.Config) *http.Client {
	cfg = cfg.Clone()
	if cfg == nil {
		cfg = &tls.Config{InsecureSkipVerify: true} // the kubelet never verifies
	}
	return &http.Client{
		Timeout: timeout, // covers connect, redirects, headers and body, as in the kubelet
		Transport: &http.Transport{
			Proxy: nil, // the kubelet ignores the node's proxy settings
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				c, err := Dial(ctx, network, addr)
				if err == nil {
					_ = c.SetDeadline(deadline)
				}
				return c, err
			},
			TLSClientConfig:    cfg,
			DisableKeepAlives:  true,
			DisableCompression: true,
			ForceAttemptHTTP2:  true,
		},
		CheckRedirect: CheckRedirect,
	}
}

// Dial opens a TCP connection the way the kubelet's probe dialer does
// (pkg/probe/dialer_others.go): with SO_LINGER set to 1 s, so that a probe
// every few seconds does not pile up sockets in TIME-WAIT
// (kubernetes#89898).
func Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(1) // best effort, as in the kubelet
	}
	return c, nil
}

// CheckRedirect is the kubelet's redirect policy (http.go, redirectChecker,
// with followNonLocalRedirects=false as prober.go builds it): a redirect is
// followed only to the same host name, compared exactly as the kubelet
// compares it (so another port or scheme is the same host, and "LOCALHOST"
// is not "localhost"); another host's 3xx is the answer. The tenth redirect
// is an error.
func CheckRedirect(req *http.Request, via []*http.Request) error {
	if req.URL.Hostname() != via[0].URL.Hostname() {
		return http.ErrUseLastResponse
	}
	if len(via) >= MaxRedirects {
		return fmt.Errorf("stopped after %d redirects", MaxRedirects)
	}
	return nil
}

// newRequest builds the kubelet's request (request.go): GET, the caller's
// headers copied with canonical keys, default User-Agent and Accept that an
// empty value removes, and Host from a "Host" header.
func newRequest(ctx context.Context, u *url.URL, header http.Header) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, unwrapURLError(err)
	}
	hdr := make(http.Header, len(header)+2)
	for k, vs := range header {
		for _, v := range vs {
			hdr.Add(k, v)
		}
	}
	if _, ok := hdr["User-Agent"]; !ok {
		hdr.Set("User-Agent", UserAgent)
	}
	// net/http sends no User-Agent when the header is present but empty,
	// which is the kubelet's "empty value removes it" too.
	if _, ok := hdr["Accept"]; !ok {
		hdr.Set("Accept", "*/*")
	} else if hdr.Get("Accept") == "" {
		hdr.Del("Accept")
	}
	if host := hdr.Get("Host"); host != "" {
		req.Host = host
	}
	hdr.Del("Host") // net/http ignores it; req.Host carries it
	req.Header = hdr
	return req, nil
}

// readAtMost reads up to limit bytes of r and reports whether more was
// there. Unlike io.ReadAll it never reads the rest of an endless body.
func readAtMost(r io.Reader, limit int) (b []byte, truncated bool, err error) {
	b, err = io.ReadAll(io.LimitReader(r, int64(limit)+1))
	if len(b) > limit {
		return b[:limit], true, nil
	}
	return b, false, err
}

// timeoutError reports a probe that ran out of time. It matches
// context.DeadlineExceeded whichever timer noticed (the client's, the
// context's or the connection's deadline), so that callers can test for a
// timeout one way.
type timeoutError struct {
	after time.Duration
	err   error
}

func (e *timeoutError) Error() string   { return fmt.Sprintf("timed out after %v: %v", e.after, e.err) }
func (e *timeoutError) Unwrap() []error { return []error{context.DeadlineExceeded, e.err} }

// unwrapURLError drops the *url.Error around err, whose text quotes the
// whole URL, credentials included.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
