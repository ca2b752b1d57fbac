package probe_test

import (
	"bufio"
	"context"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/probekit/probekit/internal/prereq"
)

// generous is the probe timeout for cases that are not about timing: long
// enough for a loaded machine running -race, so that only a wrong verdict
// can fail them.
const generous = 5 * time.Second

// testCtx returns a context that bounds a whole test, so that a regression
// fails it instead of hanging the package.
func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// newServer starts a loopback HTTP server closed at the end of the test.
func newServer(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// rawServer listens on 127.0.0.1 and hands each connection, after its
// request has been read, to serve, which must close it. It exists for the
// exchanges net/http refuses to produce: garbage, truncation, resets.
func rawServer(t *testing.T, serve func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return // listener closed
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				// Read the whole request first: closing a socket with
				// unread input sends a reset, which would change the case.
				_ = c.SetDeadline(time.Now().Add(5 * time.Second))
				if _, err := http.ReadRequest(bufio.NewReader(c)); err != nil {
					c.Close()
					return
				}
				serve(c)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	return ln.Addr().String()
}

// closedAddr returns a loopback address nobody listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// stall blocks a handler until its client goes away or the test ends, so
// that "slow" servers never outlive their test.
func stall(t *testing.T) func(r *http.Request) {
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	return func(r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-stop:
		}
	}
}

// httptestTLS starts a loopback HTTPS server with a self-signed certificate
// that answers 200, quiet about the handshakes the tests make fail.
func httptestTLS(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// requireTools skips the test, naming the first missing tool, unless every
// one of tools is in PATH. The exec tests need sh (dash or bash), setsid
// (util-linux) and coreutils; CI installs them, so nothing skips there.
func requireTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		prereq.LookPath(t, tool, toolPackage(tool))
	}
}

// toolPackage names the Debian package that provides tool.
func toolPackage(tool string) string {
	switch tool {
	case "sh":
		return "dash or bash"
	case "setsid":
		return "util-linux"
	}
	return "coreutils"
}
