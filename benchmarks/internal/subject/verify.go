package subject

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
)

// verifyRequests is how many requests Verify serves. With more than one,
// the run counts tell a subject that runs its checks per request (at least
// verifyRequests×Checks runs) from one that serves cached results (at most
// one scheduled round, Checks runs, can land in the window).
const verifyRequests = 3

// A Fetch performs one readiness request and returns its status code and
// body. Verify uses one that calls Handler directly; the loopback benchmark
// passes one that goes through a real http.Server.
type Fetch func() (code int, body []byte, err error)

// Verify serves a few requests through Handler and checks that each is a
// passing readiness report from the subject's library (see CheckResponse)
// and that checks ran per request in OnRequest mode and not in Background
// mode. A benchmark of a subject that fails Verify would time a broken
// handler, so callers stop instead.
func (s *Subject) Verify() error {
	return s.VerifyWith(func() (int, []byte, error) {
		rec := httptest.NewRecorder()
		s.Handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		return rec.Code, rec.Body.Bytes(), nil
	})
}

// VerifyWith is Verify with the requests made by fetch.
func (s *Subject) VerifyWith(fetch Fetch) error {
	before := s.Runs()
	for range verifyRequests {
		code, body, err := fetch()
		if err != nil {
			return fmt.Errorf("subject %s: %w", s.Name(), err)
		}
		if err := s.CheckResponse(code, body); err != nil {
			return err
		}
	}
	ran := s.Runs() - before
	switch {
	case s.Lib == Bare:
	case s.Mode == OnRequest && ran < verifyRequests*int64(s.Checks):
		return fmt.Errorf("subject %s: %d requests ran the checks %d times, want at least %d: not on-request",
			s.Name(), verifyRequests, ran, verifyRequests*s.Checks)
	case s.Mode == Background && ran > int64(s.Checks):
		return fmt.Errorf("subject %s: %d requests ran the checks %d times, want at most %d: not served from background results",
			s.Name(), verifyRequests, ran, s.Checks)
	}
	return nil
}

// passWord is the value of the top-level "status" field of each library's
// passing report, and detailKey the field that lists the checks by name
// ("" where the library lists only failures).
var (
	passWord  = map[Lib]string{Bare: "pass", Probekit: "pass", Alexliesenfeld: "up", Hellofresh: "OK"}
	detailKey = map[Lib]string{Probekit: "checks", Alexliesenfeld: "details"}
)

// CheckResponse reports whether code and body are what the spec's library
// answers when all checks pass: 200, a JSON object whose "status" is the
// library's word for passing, and, for libraries that list their checks,
// every check by name.
func (s Spec) CheckResponse(code int, body []byte) error {
	if code != http.StatusOK {
		return fmt.Errorf("subject %s: status %d, want 200; body %.200q", s.Name(), code, body)
	}
	var report map[string]json.RawMessage
	if err := json.Unmarshal(body, &report); err != nil {
		return fmt.Errorf("subject %s: body is not a JSON object (%v): %.200q", s.Name(), err, body)
	}
	var status string
	if err := json.Unmarshal(report["status"], &status); err != nil || status != passWord[s.Lib] {
		return fmt.Errorf("subject %s: \"status\" is %s, want %q", s.Name(), report["status"], passWord[s.Lib])
	}
	key := detailKey[s.Lib]
	if key == "" || s.Lib == Bare {
		return nil
	}
	var listed map[string]json.RawMessage
	if err := json.Unmarshal(report[key], &listed); err != nil {
		return fmt.Errorf("subject %s: %q is not an object: %.200q", s.Name(), key, body)
	}
	for i := range s.Checks {
		if _, ok := listed[checkName(i)]; !ok {
			return fmt.Errorf("subject %s: %q does not list %s: %.200q", s.Name(), key, checkName(i), body)
		}
	}
	return nil
}
