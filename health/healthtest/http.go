package healthtest

import (
	"encoding/json"
	"mime"
	"net/http"
	"net/http/httptest"
	"testing"
)

// Response is what a handler answered, with the health report decoded when
// the body is one (Content-Type application/health+json or
// application/json with a "status" field).
type Response struct {
	// Code is the HTTP status code: 200 for pass and warn, 503 for fail.
	Code int
	// Header and Body are the response's, as the handler wrote them.
	Header http.Header
	Body   []byte
	// Status is the report's "status": "pass", "warn" or "fail"; empty when
	// the body is not a JSON health report (the text forms, a 404).
	Status string
	// Checks holds the report's entries by name; nil when the body is not a
	// JSON health report or lists no entries.
	Checks map[string]Entry
	// Notes holds the report's remarks (exclusions, entries omitted).
	Notes []string
}

// Entry is one entry of a JSON health report. Output is "reason withheld"
// unless the registry's ShowDetails allows the request to see reasons.
type Entry struct {
	// Status is "pass", "warn" or "fail".
	Status string `json:"status"`
	// Output is the reason for a status other than pass.
	Output string `json:"output,omitempty"`
	// Breaker is the state of a dependency check's circuit breaker
	// ("closed", "half-open", "open"); empty for other entries.
	Breaker string `json:"breaker,omitempty"`
}

// Get sends GET target (a path, optionally with a query string, such as
// "/readyz?verbose") to h in-process and returns the response. It fails the
// test with t.Fatalf when target is not a valid request target or the body
// claims to be a JSON health report and does not decode as one.
func Get(t testing.TB, h http.Handler, target string) Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, target, nil)
	if err != nil {
		t.Fatalf("healthtest: GET %s: %v", target, err)
	}
	return Do(t, h, req)
}

// Do sends req to h in-process and returns the response, decoded as Get
// does. Use it for other methods, headers (Accept: text/plain) or a
// request context of the test's choosing.
func Do(t testing.TB, h http.Handler, req *http.Request) Response {
	t.Helper()
	if h == nil {
		t.Fatalf("healthtest: %s %s: nil handler", req.Method, req.URL)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := rec.Result()
	defer res.Body.Close()
	r := Response{Code: res.StatusCode, Header: res.Header, Body: rec.Body.Bytes()}
	mt, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type"))
	if mt != "application/health+json" && mt != "application/json" {
		return r
	}
	var rep struct {
		Status string             `json:"status"`
		Checks map[string][]Entry `json:"checks"`
		Notes  []string           `json:"notes"`
	}
	if err := json.Unmarshal(r.Body, &rep); err != nil {
		if mt == "application/json" {
			return r // some other JSON: not ours to judge
		}
		t.Fatalf("healthtest: %s %s: body is not a health report: %v\n%s", req.Method, req.URL, err, r.Body)
	}
	r.Status, r.Notes = rep.Status, rep.Notes
	for name, entries := range rep.Checks {
		if len(entries) == 0 {
			continue
		}
		if r.Checks == nil {
			r.Checks = make(map[string]Entry, len(rep.Checks))
		}
		r.Checks[name] = entries[0]
	}
	return r
}

// AssertStatus sends GET target to h, as Get does, and reports an error
// with t.Errorf, showing the body, unless the status code is want. The
// test goes on either way; the response is returned for further checks.
func AssertStatus(t testing.TB, h http.Handler, target string, want int) Response {
	t.Helper()
	r := Get(t, h, target)
	if r.Code != want {
		t.Errorf("healthtest: GET %s = %d %s, want %d %s\n%s",
			target, r.Code, http.StatusText(r.Code), want, http.StatusText(want), r.Body)
	}
	return r
}
