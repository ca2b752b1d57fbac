package checks_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/probekit/probekit/checks"
)

func TestHTTPPassesOn2xxAnd3xx(t *testing.T) {
	for _, code := range []int{200, 204} {
		ts := server(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(code) })
		if err := checks.HTTP(ts.URL).Check(testCtx(t)); err != nil {
			t.Errorf("status %d: %v", code, err)
		}
	}
	// A 3xx that comes back is the kubelet's Warning: it passes, and says so.
	for _, code := range []int{304, 399} {
		ts := server(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(code) })
		requireWarn(t, checks.HTTP(ts.URL).Check(testCtx(t)), "HTTP")
	}
}

func TestHTTPFailsOnOtherStatuses(t *testing.T) {
	for _, code := range []int{400, 404, 500, 503} {
		ts := server(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(code) })
		err := checks.HTTP(ts.URL + "/healthz").Check(testCtx(t))
		requireFail(t, err, "HTTP")
		if want := fmt.Sprintf("GET %s/healthz: status %d", ts.URL, code); !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}

func TestHTTPObservesLatency(t *testing.T) {
	ts := server(t, func(w http.ResponseWriter, r *http.Request) {})
	requirePass(t, checks.HTTP(ts.URL))
}

func TestHTTPExpectStatus(t *testing.T) {
	ts := server(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	if err := checks.HTTP(ts.URL, checks.HTTPExpectStatus(200, http.StatusTeapot)).Check(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	requireFail(t, checks.HTTP(ts.URL, checks.HTTPExpectStatus(200)).Check(testCtx(t)), "HTTP")
	// An expected 3xx passes without the warning the kubelet's verdict gives.
	notModified := server(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNotModified) })
	if err := checks.HTTP(notModified.URL, checks.HTTPExpectStatus(http.StatusNotModified)).Check(testCtx(t)); err != nil {
		t.Fatalf("expected 304: %v", err)
	}
}

func TestHTTPExpectBody(t *testing.T) {
	ts := server(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{"status":"ok"}`) })
	contains := func(s string) func([]byte) error {
		return func(b []byte) error {
			if !bytes.Contains(b, []byte(s)) {
				return fmt.Errorf("body lacks %q", s)
			}
			return nil
		}
	}
	if err := checks.HTTP(ts.URL, checks.HTTPExpectBody(contains(`"ok"`))).Check(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	err := checks.HTTP(ts.URL, checks.HTTPExpectBody(contains(`"up"`))).Check(testCtx(t))
	requireFail(t, err, "HTTP")
	if !strings.Contains(err.Error(), `unexpected body: body lacks "\"up\""`) {
		t.Fatalf("got %v", err)
	}
}

// An endless body must neither hold the check up nor be read whole.
func TestHTTPReadsABoundedBody(t *testing.T) {
	ts := server(t, func(w http.ResponseWriter, r *http.Request) {
		chunk := bytes.Repeat([]byte("x"), 4096)
		for {
			if _, err := w.Write(chunk); err != nil {
				return // the check hung up
			}
		}
	})
	var got int
	check := checks.HTTP(ts.URL, checks.HTTPExpectBody(func(b []byte) error { got = len(b); return nil }))
	if err := check.Check(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	if got != 10<<10 {
		t.Fatalf("matcher saw %d bytes, want 10 KiB", got)
	}
}
