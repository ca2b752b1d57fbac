package routers

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// answer is what a client sees of a response, reduced to what must be the
// same on every router.
type answer struct {
	code    int
	header  http.Header // the headers compared, see comparedHeaders
	body    string      // normalized: see normalize
	entries []string    // the report's entry names, for JSON bodies
}

// comparedHeaders are the response headers that must be byte-identical on
// every router. Content-Length is compared separately (it varies with the
// timestamps in a JSON body); Location must be absent everywhere.
var comparedHeaders = []string{"Content-Type", "Allow", "Cache-Control", "X-Content-Type-Options", "Location"}

// client sends requests over a real connection to srv and, unlike
// srv.Client(), does not follow redirects, so that a 3xx is seen.
func client(srv *httptest.Server) *http.Client {
	c := *srv.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

// do sends method target (a path with an optional query) to srv.
func do(t *testing.T, srv *httptest.Server, method, target string) answer {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, srv.URL+target, nil)
	require.NoError(t, err)
	res, err := client(srv).Do(req)
	require.NoError(t, err, "%s %s", method, target)
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)

	a := answer{code: res.StatusCode, header: http.Header{}}
	for _, k := range comparedHeaders {
		if v, ok := res.Header[k]; ok {
			a.header[k] = v
		}
	}
	ct := res.Header.Get("Content-Type")
	switch {
	case method == http.MethodHead:
		require.Empty(t, body, "HEAD %s has a body", target)
		// The length of the body GET would have got: present for the
		// health handlers and the 404s, exact where no timestamps vary.
		if ct != "application/health+json" {
			a.header["Content-Length"] = res.Header["Content-Length"]
		}
	case ct == "application/health+json":
		a.body, a.entries = normalize(t, body)
	default:
		a.body = string(body)
		a.header["Content-Length"] = res.Header["Content-Length"]
	}
	return a
}

// normalize decodes a health report and re-encodes it without the fields
// that differ from one evaluation to the next (when and how long an entry
// ran, how long since it last passed), with sorted keys.
func normalize(t *testing.T, body []byte) (string, []string) {
	t.Helper()
	var rep map[string]any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	require.NoError(t, dec.Decode(&rep), "%s", body)
	checks, _ := rep["checks"].(map[string]any)
	var names []string
	for name, list := range checks {
		names = append(names, name)
		items, ok := list.([]any)
		require.True(t, ok, "checks[%q] is not a list: %s", name, body)
		for _, item := range items {
			entry, ok := item.(map[string]any)
			require.True(t, ok, "checks[%q] holds a non-object: %s", name, body)
			for _, k := range []string{"time", "duration", "lastSuccess", "sinceLastSuccess"} {
				delete(entry, k)
			}
		}
	}
	slices.Sort(names)
	out, err := json.Marshal(rep)
	require.NoError(t, err)
	return string(out), names
}
