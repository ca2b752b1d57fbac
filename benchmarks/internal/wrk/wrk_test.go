package wrk_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/probekit/probekit/benchmarks/internal/wrk"
	"github.com/probekit/probekit/internal/prereq"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func sample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The samples are real wrk 4.1.0 output (Debian 4.1.0-3+b2), captured
// against small servers on 127.0.0.1.
func TestParseRealOutput(t *testing.T) {
	r, err := wrk.Parse(sample(t, "ok.txt"))
	if err != nil {
		t.Fatal(err)
	}
	want := wrk.Result{Requests: 79025, Elapsed: 1100 * time.Millisecond, RequestsPerSec: 71857.57,
		P50: 374 * time.Microsecond, P99: 5870 * time.Microsecond}
	if r != want {
		t.Fatalf("Parse:\n got %+v\nwant %+v", r, want)
	}
	if err := r.Err(); err != nil {
		t.Fatalf("a clean run reports %v", err)
	}
}

func TestParseReportsFailedResponses(t *testing.T) {
	r, err := wrk.Parse(sample(t, "non2xx.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if r.Non2xx != 78730 || r.Requests != 78730 {
		t.Fatalf("Parse: %+v", r)
	}
	if err := r.Err(); err == nil || !strings.Contains(err.Error(), "78730 non-2xx/3xx responses") {
		t.Fatalf("Err: %v", err)
	}

	r, err = wrk.Parse(sample(t, "timeouts.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if r.SocketErrors != (wrk.SocketErrors{Timeout: 32}) || r.P99 != 1080*time.Microsecond {
		t.Fatalf("Parse: %+v", r)
	}
	if err := r.Err(); err == nil || !strings.Contains(err.Error(), "timeout 32") {
		t.Fatalf("Err: %v", err)
	}
}

func TestParseRefusesOutputWithoutFigures(t *testing.T) {
	for name, out := range map[string][]byte{
		"refused.txt":  sample(t, "refused.txt"),
		"empty":        nil,
		"no --latency": []byte("  79025 requests in 1.10s, 10.10MB read\nRequests/sec:  71857.57\n"),
		"bad number":   []byte("  79025 requests in 1.10parsecs, 10.10MB read\n"),
	} {
		if r, err := wrk.Parse(out); err == nil {
			t.Errorf("%s: Parse accepted it: %+v", name, r)
		}
	}
}

func TestConfigArgs(t *testing.T) {
	c := wrk.Config{Threads: 2, Connections: 32, Duration: 5 * time.Second, Timeout: 2 * time.Second}
	got := strings.Join(c.Args("http://127.0.0.1:1/readyz"), " ")
	if want := "-t2 -c32 -d5s --timeout 2s --latency http://127.0.0.1:1/readyz"; got != want {
		t.Fatalf("Args: %q, want %q", got, want)
	}
}

func TestRunRefusesABadConfigBeforeStartingWrk(t *testing.T) {
	for _, c := range []wrk.Config{
		{Threads: 2, Connections: 1, Duration: time.Second, Timeout: time.Second},
		{Threads: 2, Connections: 32, Duration: 1500 * time.Millisecond, Timeout: time.Second},
		{Threads: 2, Connections: 32, Duration: time.Second},
	} {
		if _, err := wrk.Run(context.Background(), "/nonexistent/wrk", c, "http://127.0.0.1:1/"); err == nil || !strings.HasPrefix(err.Error(), "wrk: ") {
			t.Errorf("Run(%+v): %v", c, err)
		}
	}
}

// serve starts a real server on 127.0.0.1 answering every request with code.
func serve(t *testing.T, code int) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(code)
	}), ReadHeaderTimeout: time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String() + "/readyz"
}

// lookWrk returns wrk's path, or skips t with the repository's
// missing-prerequisite message.
func lookWrk(t *testing.T) string {
	t.Helper()
	path, err := wrk.Look()
	if err != nil {
		if !errors.Is(err, wrk.ErrNotFound) {
			t.Fatalf("Look: %v does not wrap ErrNotFound", err)
		}
		prereq.Skip(t, "wrk (Debian package wrk)", err)
	}
	return path
}

func TestRunAgainstARealServer(t *testing.T) {
	path := lookWrk(t)
	c := wrk.Config{Threads: 1, Connections: 2, Duration: time.Second, Timeout: time.Second}
	r, err := wrk.Run(context.Background(), path, c, serve(t, http.StatusOK))
	if err != nil {
		t.Fatal(err)
	}
	if r.Requests == 0 || r.RequestsPerSec <= 0 || r.P50 <= 0 || r.P99 < r.P50 {
		t.Fatalf("implausible result %+v", r)
	}

	_, err = wrk.Run(context.Background(), path, c, serve(t, http.StatusServiceUnavailable))
	if err == nil || !strings.Contains(err.Error(), "non-2xx/3xx responses") {
		t.Fatalf("Run against a failing server: %v", err)
	}
}

func TestVersionNamesWrk(t *testing.T) {
	if v := wrk.Version(context.Background(), lookWrk(t)); !strings.HasPrefix(v, "wrk ") || strings.Contains(v, "Copyright") {
		t.Fatalf("Version: %q", v)
	}
	if v := wrk.Version(context.Background(), "/nonexistent/wrk"); v != "unknown" {
		t.Fatalf("Version of a missing binary: %q", v)
	}
}
