package checks_test

import (
	"bytes"
	"database/sql"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/probekit/probekit/checks"
	"github.com/probekit/probekit/health"
)

// lockedBuffer is a bytes.Buffer safe for the registry's logging goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// requireRedacted registers check, which must fail, in the readiness group
// of a registry that logs everything and shows details to every request,
// probes it over HTTP in both forms, and fails the test unless the
// responses show the redacted reason and neither they nor the logs contain
// any of secrets. The checks leave redaction to the registry: this is
// where a credential would leak.
func requireRedacted(t *testing.T, check health.Checker, secrets ...string) {
	t.Helper()
	var logs lockedBuffer
	reg := health.New(health.Options{
		Logger:      slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		ShowDetails: func(*http.Request) bool { return true },
	})
	if err := reg.Register(health.Readiness, "dep", check); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	if err := reg.Mount(mux); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(mux)
	var bodies []string
	for _, path := range []string{"/readyz?verbose", "/readyz/dep"} {
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("%s: status %d, want 503", path, res.StatusCode)
		}
		if !strings.Contains(string(body), "xxxxx") {
			t.Errorf("%s: the detailed response shows no redacted reason: %s", path, body)
		}
		bodies = append(bodies, string(body))
	}
	srv.Close()
	if err := reg.Close(); err != nil { // the logger has written everything
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "xxxxx") {
		t.Errorf("the logs show no redacted reason: %s", logs.String())
	}
	for what, text := range map[string]string{"responses": strings.Join(bodies, "\n"), "logs": logs.String()} {
		for _, secret := range secrets {
			if strings.Contains(text, secret) {
				t.Errorf("the %s leak %q: %s", what, secret, text)
			}
		}
	}
}

// TestRedactionEndToEnd: a driver that echoes its DSN, in the forms of the
// issue, leaks the password neither into the detailed HTTP response
// (ShowDetails) nor into the registry's logs.
func TestRedactionEndToEnd(t *testing.T) {
	const secret = "SECRETpw9"
	for _, dsn := range []string{
		"postgres://app:p@" + secret + "@db/app",
		"app:p@" + secret + "@tcp(db:3306)/app",
		"host=db user=app password='p " + secret + "' dbname=app",
		"mongodb+srv://app:" + secret + "@c0.example.net,c1.example.net/app",
		"redis://:" + secret + "@cache:6379/0",
	} {
		t.Run(dsn, func(t *testing.T) {
			db, err := sql.Open("checks-echo", dsn)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			requireRedacted(t, checks.SQL(db), secret)
		})
	}
}
