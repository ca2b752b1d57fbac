package health_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/probekit/probekit/health"
)

// probeServer serves a registry's routes (mounted with Mount on a fresh
// ServeMux) over a real loopback socket.
type probeServer struct {
	t      testing.TB
	url    string
	client *http.Client
}

func serveProbes(t testing.TB, r *health.Registry, opts ...health.MountOptions) *probeServer {
	t.Helper()
	mux := http.NewServeMux()
	require.NoError(t, r.Mount(mux, opts...))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	client := srv.Client()
	// A probe answer is never a redirect; make one visible instead of
	// following it.
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &probeServer{t: t, url: srv.URL, client: client}
}

type probeResponse struct {
	code   int
	header http.Header
	body   string
	length int64 // Content-Length as the client saw it
}

// try sends one request; headers are "Name: value" strings. It is safe to
// call from several goroutines.
func (p *probeServer) try(method, target string, headers ...string) (probeResponse, error) {
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, p.url+target, nil)
	if err != nil {
		return probeResponse{}, err
	}
	for _, h := range headers {
		if h == "" {
			continue
		}
		k, v, _ := strings.Cut(h, ":")
		req.Header.Set(k, strings.TrimSpace(v))
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return probeResponse{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return probeResponse{}, err
	}
	return probeResponse{code: resp.StatusCode, header: resp.Header, body: string(body), length: resp.ContentLength}, nil
}

func (p *probeServer) do(method, target string, headers ...string) probeResponse {
	p.t.Helper()
	resp, err := p.try(method, target, headers...)
	require.NoError(p.t, err)
	return resp
}

func (p *probeServer) get(target string, headers ...string) probeResponse {
	p.t.Helper()
	return p.do(http.MethodGet, target, headers...)
}

// serve answers one in-process request.
func serve(h http.Handler, method, target string, headers ...string) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	req := httptest.NewRequest(method, target, nil)
	for _, hd := range headers {
		k, v, _ := strings.Cut(hd, ":")
		req.Header.Set(k, strings.TrimSpace(v))
	}
	h.ServeHTTP(w, req)
	return w
}

// healthJSON mirrors the documented application/health+json body; it is
// decoded with unknown fields disallowed, so that any field the docs do
// not promise fails the test.
type healthJSON struct {
	Status string                 `json:"status"`
	Checks map[string][]entryJSON `json:"checks"`
	Notes  []string               `json:"notes"`
}

type entryJSON struct {
	Status           string `json:"status"`
	Time             string `json:"time"`
	Duration         string `json:"duration"`
	Breaker          string `json:"breaker"`
	LastSuccess      string `json:"lastSuccess"`
	SinceLastSuccess string `json:"sinceLastSuccess"`
	Output           string `json:"output"`
}

func decodeHealth(t testing.TB, resp probeResponse) healthJSON {
	t.Helper()
	require.Equal(t, "application/health+json", resp.header.Get("Content-Type"), "body: %s", resp.body)
	return decodeBody(t, resp.body)
}

func decodeBody(t testing.TB, body string) healthJSON {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(body))
	dec.DisallowUnknownFields()
	var out healthJSON
	require.NoError(t, dec.Decode(&out), "body: %s", body)
	require.ErrorIs(t, dec.Decode(new(any)), io.EOF, "trailing data after the JSON body: %s", body)
	require.Contains(t, []string{"pass", "warn", "fail"}, out.Status)
	for name, list := range out.Checks {
		require.Len(t, list, 1, "check %s", name)
		e := list[0]
		require.Contains(t, []string{"pass", "warn", "fail"}, e.Status, "check %s", name)
		for _, ts := range []string{e.Time, e.LastSuccess} {
			if ts != "" {
				_, err := time.Parse(time.RFC3339, ts)
				require.NoError(t, err, "check %s", name)
			}
		}
		for _, d := range []string{e.Duration, e.SinceLastSuccess} {
			if d != "" {
				_, err := time.ParseDuration(d)
				require.NoError(t, err, "check %s", name)
			}
		}
	}
	return out
}

// only returns the entry name of a decoded body.
func (h healthJSON) only(t testing.TB, name string) entryJSON {
	t.Helper()
	list, ok := h.Checks[name]
	require.True(t, ok, "no entry %q in %v", name, h.Checks)
	return list[0]
}
