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
		db, err := sql.Open("checks-echo", dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		var logs lockedBuffer
		reg := health.New(
			health.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
			health.ShowDetails(func(*http.Request) bool { return true }),
		)
		if err := reg.Register(health.Readiness, "db", checks.SQL(db), health.Dependency()); err != nil {
			t.Fatal(err)
		}
		mux := http.NewServeMux()
		if err := reg.Mount(mux); err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(mux)
		res, err := http.Get(srv.URL + "/readyz?verbose")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		srv.Close()
		reg.Close()
		if res.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("%s: status %d, want 503", dsn, res.StatusCode)
		}
		if !strings.Contains(string(body), "xxxxx") {
			t.Errorf("%s: the detailed response shows no redacted reason: %s", dsn, body)
		}
		for what, text := range map[string]string{"response": string(body), "logs": logs.String()} {
			if strings.Contains(text, secret) {
				t.Errorf("%s: the %s leak the password: %s", dsn, what, text)
			}
		}
	}
}
