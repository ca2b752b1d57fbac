package probe

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/probekit/probekit/internal/httpprobe"
)

// UserAgent is the User-Agent an HTTPGet sends unless its Header sets one.
// It starts like the kubelet's ("kube-probe/<major>.<minor>") so that
// servers which recognise probes by that prefix treat this one alike.
const UserAgent = httpprobe.UserAgent

// HTTPGet probes with an HTTP GET request, as a Kubernetes httpGet probe
// does. Its zero value is not usable: URL is required.
//
// A status in [200, 300) is a Success and one in [300, 400) a Warning (which
// passes); anything else, 101 Switching Protocols included, is a Failure
// whose Message gives only the status. Redirects are followed only to the
// same host name, compared exactly as the kubelet does (any port or scheme),
// and only 9 deep: the tenth redirect is a Failure. A redirect to another
// host name is not followed; its 3xx is the answer, hence a Warning. Every
// probe uses a new connection without keep-alive, compression or proxy, and
// reads at most MaxBody bytes of the body; a longer body is not a failure.
//
// The timeout bounds the whole exchange whatever the server does: it holds
// against stalled or endless headers and bodies, repeated 1xx responses, a
// protocol switch that keeps the connection, resets and TLS handshakes that
// never finish. Messages show the URL without userinfo, query or fragment.
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
	if h.URL == "" {
		return Outcome{}, invalidf("HTTPGet.URL is empty")
	}
	u, err := httpprobe.ParseURL(h.URL)
	if err != nil {
		return Outcome{}, invalidf("HTTPGet.URL: %v", err)
	}

	res, err := httpprobe.Get(ctx, timeout, httpprobe.Request{URL: u, Header: h.Header, TLSConfig: h.TLSConfig})
	if ended(ctx) {
		return canceled(ctx)
	}
	out := Outcome{StatusCode: res.StatusCode, Body: res.Body, Truncated: res.Truncated}
	switch {
	case errors.Is(err, httpprobe.ErrBody):
		// The kubelet returns (Failure, "", err) here, so its loop retries
		// the probe and, if that keeps failing, ignores it.
		out.Result = Failure
		out.Message = "HTTP probe failed: " + err.Error()
		return out, fmt.Errorf("probe: %w", err)
	case err != nil:
		// Like the kubelet, an exchange that did not produce a response
		// (refused, reset, timed out, not HTTP, too many redirects) is a
		// Failure, not an error.
		return Outcome{Result: Failure, Message: err.Error()}, nil
	}
	switch code := res.StatusCode; httpprobe.Judge(code) {
	case httpprobe.Success:
		out.Result = Success
		out.Message = fmt.Sprintf("HTTP probe succeeded with statuscode: %d", code)
	case httpprobe.Warning:
		out.Result = Warning
		out.Message = fmt.Sprintf("HTTP probe terminated redirects with statuscode: %d", code)
		if res.Location != "" {
			out.Message += ", location: " + res.Location
		}
	default:
		out.Result = Failure
		out.Message = fmt.Sprintf("HTTP probe failed with statuscode: %d", code)
	}
	return out, nil
}
