package probe_test

// The Go snippet of docs/healthprobe.md ("In Go tests"), verbatim (indented
// one tab) in the body of TestDocsWaitReady, so that it compiles and runs.

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/probekit/probekit/health"
	"github.com/probekit/probekit/probe"
)

func TestDocsWaitReady(t *testing.T) {
	reg := health.New()
	defer reg.Close()
	mux := http.NewServeMux()
	if err := reg.Mount(mux); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(mux)
	defer srv.Close()

	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if err := probe.WaitReady(ctx, srv.URL+"/readyz"); err != nil {
		t.Fatal(err)
	}
	reg.MarkNotReady("maintenance") // a health.Registry: take the process out of rotation
	if err := probe.WaitStatus(ctx, probe.HTTPGet{URL: srv.URL + "/readyz"}, probe.Failure); err != nil {
		t.Fatal(err) // the error describes the last probe
	}
}
