package probe

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// UserAgent is the User-Agent an HTTPGet sends unless its Header sets one.
// It starts like the kubelet's ("kube-probe/<major>.<minor>") so that
// servers which recognise probes by that prefix treat this one alike.
const UserAgent = "kube-probe/1.37 probekit"

// maxRedirects is the kubelet's limit: the tenth redirect is an error.
const maxRedirects = 10

// HTTPGet probes with an HTTP GET request, as a Kubernetes httpGet probe
// does. Its zero value is not usable: URL is required.
//
// A status in [200, 300) is a Success and one in [300, 400) a Warning (which
// passes); anything else is a Failure whose Message gives only the status.
// Redirects are followed only to the same host name (any port) and only 9
// deep: the tenth redirect is a Failure. A redirect to another host name is
// not followed; its 3xx is the answer, hence a Warning. Every probe uses a
// new connection without keep-alive, compression or proxy, and reads at
// most MaxBody bytes of the body; a longer body is not a failure.
type HTTPGet struct {
	// URL is the absolute http or https URL to get.
	URL string
	// Header holds extra request headers. A "Host" entry sets the Host.
	// "User-Agent" and "Accept" replace the defaults (UserAgent and "*/*");
	// an empty value for either removes that header. Header is not
	// modified.
	Header http.Header
	// TLSConfig configures HTTPS. When nil, the server's certificate is not
	// verified, as the kubelet never verifies it. To verify, pass a config,
	// for example &tls.Config{} for the system roots or one with RootCAs.
	// It is cloned, never modified.
	TLSConfig *tls.Config
}

// Probe implements [Action].
func (h HTTPGet) Probe(ctx context.Context, timeout time.Duration) (Outcome, error) {
	timeout, err := resolveTimeout(timeout)
	if err != nil {
		return Outcome{}, err
	}
	req, err := h.newRequest(ctx)
	if err != nil {
		return Outcome{}, err
	}

	tlsConfig := h.TLSConfig.Clone()
	if tlsConfig == nil {
		tlsConfig = &tls.Config{InsecureSkipVerify: true}
	}
	// A transport per probe costs little next to a new TCP (and TLS)
	// connection, which the kubelet's DisableKeepAlives forces anyway, and
	// it leaves nothing idle behind.
	client := &http.Client{
		Timeout: timeout, // covers connect, redirects, headers and body
		Transport: &http.Transport{
			Proxy:              nil, // the kubelet ignores the node's proxy settings
			DialContext:        dial,
			TLSClientConfig:    tlsConfig,
			DisableKeepAlives:  true,
			DisableCompression: true,
			ForceAttemptHTTP2:  true, // HTTPS negotiates h2 via ALPN, as the kubelet's transport does
		},
		CheckRedirect: checkRedirect,
	}

	res, err := client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return canceled(ctx)
		}
		// Like the kubelet, an exchange that did not produce a response
		// (refused, reset, timed out, not HTTP, too many redirects) is a
		// Failure, not an error.
		return Outcome{Result: Failure, Message: err.Error()}, nil
	}
	defer res.Body.Close()

	body, truncated, err := readAtMost(res.Body, MaxBody)
	if err != nil {
		if ctx.Err() != nil {
			return canceled(ctx)
		}
		// The kubelet returns (Failure, "", err) here, so its loop retries
		// the probe and, if that keeps failing, ignores it.
		msg := fmt.Sprintf("HTTP probe failed reading the body of a %d response: %v", res.StatusCode, err)
		return Outcome{Result: Failure, Message: msg, StatusCode: res.StatusCode, Body: body},
			fmt.Errorf("probe: %s", msg)
	}

	out := Outcome{StatusCode: res.StatusCode, Body: body, Truncated: truncated}
	switch code := res.StatusCode; {
	case code >= 200 && code < 300:
		out.Result = Success
		out.Message = fmt.Sprintf("HTTP probe succeeded with statuscode: %d", code)
	case code >= 300 && code < 400:
		out.Result = Warning
		out.Message = fmt.Sprintf("HTTP probe terminated redirects with statuscode: %d", code)
		if loc := res.Header.Get("Location"); loc != "" {
			out.Message += ", location: " + loc
		}
	default:
		out.Result = Failure
		out.Message = fmt.Sprintf("HTTP probe failed with statuscode: %d", code)
	}
	return out, nil
}

// newRequest validates h and builds its request with the kubelet's headers.
func (h HTTPGet) newRequest(ctx context.Context) (*http.Request, error) {
	if h.URL == "" {
		return nil, invalidf("HTTPGet.URL is empty")
	}
	u, err := url.Parse(h.URL)
	if err != nil {
		return nil, invalidf("HTTPGet.URL: %v", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, invalidf("HTTPGet.URL %q: scheme must be http or https", h.URL)
	}
	if u.Host == "" {
		return nil, invalidf("HTTPGet.URL %q has no host", h.URL)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, invalidf("HTTPGet.URL: %v", err)
	}

	// Copy through Add so that keys are canonical whatever the caller wrote,
	// and the caller's map is never shared with the transport.
	hdr := make(http.Header, len(h.Header)+2)
	for k, vs := range h.Header {
		for _, v := range vs {
			hdr.Add(k, v)
		}
	}
	if _, ok := hdr["User-Agent"]; !ok {
		hdr.Set("User-Agent", UserAgent)
	}
	// net/http sends no User-Agent when the header is present but empty,
	// which is how the kubelet's "empty value removes it" behaves too.
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

// checkRedirect is the kubelet's policy (followNonLocalRedirects=false):
// only the host name is compared, so another port on the same host is
// followed.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if req.URL.Hostname() != via[0].URL.Hostname() {
		return http.ErrUseLastResponse
	}
	if len(via) >= maxRedirects {
		return errors.New("stopped after 10 redirects")
	}
	return nil
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
