package adversarial_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"
)

// maxBody is what the kubelet reads of a probe response; every response
// must stay under it.
const maxBody = 10 << 10

// answer is a response to one request served through a handler.
type answer struct {
	ok     bool // the handler answered within the bound, without panicking
	code   int
	header http.Header
	body   []byte
}

// serve runs h.ServeHTTP for req on a goroutine of its own and waits up to
// bound. A handler that panics, calls Goexit or is still running at the
// bound did not answer: net/http would drop the connection (or leave the
// kubelet waiting), so t fails. The request carries no deadline of its own:
// the library must answer by itself.
func serve(t testing.TB, h http.Handler, req *http.Request, bound time.Duration) answer {
	t.Helper()
	rec := httptest.NewRecorder()
	e := within(bound, func() { h.ServeHTTP(rec, req) })
	if !e.returned {
		t.Errorf("%s %s%s: the handler %v (want an answer within %v)", req.Method, req.URL, describeHeaders(req), e, bound)
		return answer{}
	}
	return answer{ok: true, code: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
}

// get sends a GET for target through the rig's mux; headers are
// "Name: value" strings.
func (rg *rig) get(t testing.TB, target string, headers ...string) answer {
	t.Helper()
	req := newRequest(t, http.MethodGet, target, headers...)
	a := serve(t, rg.mux, req, answerBound)
	if a.ok {
		checkAnswer(t, req, a)
	}
	return a
}

func newRequest(t testing.TB, method, target string, headers ...string) *http.Request {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for _, h := range headers {
		k, v, ok := strings.Cut(h, ":")
		if !ok {
			t.Fatalf("header %q is not Name: value", h)
		}
		req.Header.Add(k, strings.TrimSpace(v))
	}
	return req
}

// Lines of the Kubernetes text form.
var (
	textEntry   = regexp.MustCompile(`^\[[+-]\][A-Za-z0-9._-]+ (ok|excluded: ok|warn: .*|failed: .*)$`)
	textNote    = regexp.MustCompile(`^warn: .*$`)
	textVerdict = regexp.MustCompile(`^(liveness|readiness|startup) check (passed|failed)$`)
)

// answerProblem returns what is wrong with a response to req, or "". It is
// the contract of every response: a status the kubelet understands, a body
// under 10 KiB, valid JSON for application/health+json, one entry per line
// for the text form, a one-line message for errors.
func answerProblem(req *http.Request, a answer) string {
	switch a.code {
	case http.StatusOK, http.StatusServiceUnavailable, http.StatusBadRequest, http.StatusNotFound, http.StatusMethodNotAllowed:
	default:
		return fmt.Sprintf("status %d, want one of 200, 503, 400, 404, 405", a.code)
	}
	if len(a.body) >= maxBody {
		return fmt.Sprintf("body of %d bytes, want under %d", len(a.body), maxBody)
	}
	if req.Method == http.MethodHead {
		return "" // net/http drops what a handler writes for HEAD
	}
	body := string(a.body)
	ct := a.header.Get("Content-Type")
	switch {
	case a.code != http.StatusOK && a.code != http.StatusServiceUnavailable:
		if strings.Count(strings.TrimSuffix(body, "\n"), "\n") > 0 || strings.Contains(body, "\r") {
			return fmt.Sprintf("%d body is not one line: %.200q", a.code, body)
		}
	case ct == "application/health+json":
		var doc struct {
			Status string `json:"status"`
		}
		if !json.Valid(a.body) {
			return fmt.Sprintf("invalid JSON: %.300q", body)
		}
		if err := json.Unmarshal(a.body, &doc); err != nil {
			return fmt.Sprintf("JSON body is not an object: %v", err)
		}
		want := "fail"
		if a.code == http.StatusOK {
			want = "pass|warn"
		}
		if !strings.Contains(want, doc.Status) || doc.Status == "" {
			return fmt.Sprintf("JSON status %q with code %d", doc.Status, a.code)
		}
	case strings.HasPrefix(ct, "text/plain"):
		if body == "ok" {
			return ""
		}
		if strings.Contains(body, "\r") {
			return fmt.Sprintf("text body contains a carriage return: %.300q", body)
		}
		lines := strings.Split(strings.TrimSuffix(body, "\n"), "\n")
		for i, line := range lines {
			last := i == len(lines)-1
			if last && !textVerdict.MatchString(line) || !last && !textEntry.MatchString(line) && !textNote.MatchString(line) {
				return fmt.Sprintf("text line %d is not one entry: %.200q (body %.300q)", i+1, line, body)
			}
		}
	default:
		return fmt.Sprintf("Content-Type %q", ct)
	}
	return ""
}

func checkAnswer(t testing.TB, req *http.Request, a answer) {
	t.Helper()
	if p := answerProblem(req, a); p != "" {
		t.Errorf("%s %s%s: %s", req.Method, req.URL, describeHeaders(req), p)
	}
}

// describeHeaders names the headers a test set, for failure messages.
func describeHeaders(req *http.Request) string {
	var b strings.Builder
	for k, vs := range req.Header {
		for _, v := range vs {
			fmt.Fprintf(&b, " [%s: %.60s]", k, v)
		}
	}
	return b.String()
}
