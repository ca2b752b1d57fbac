package checks_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/probekit/probekit/checks"
)

func TestHTTPSlowBodyTimesOut(t *testing.T) {
	ts := server(t, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "partial")
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	err := checks.HTTP(ts.URL).Check(ctx)
	requireFail(t, err, "HTTP")
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "reading the response body") {
		t.Fatalf("got %v, want a deadline while reading the body", err)
	}
}

func TestHTTPSlowHeadersTimeOut(t *testing.T) {
	ts := server(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	err := checks.HTTP(ts.URL).Check(ctx)
	requireFail(t, err, "HTTP")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want context.DeadlineExceeded", err)
	}
}

// reset reads the request head and then aborts the connection with a TCP
// reset after writing prefix.
func reset(prefix string) func(net.Conn) {
	return func(c net.Conn) {
		br := bufio.NewReader(c)
		for {
			line, err := br.ReadString('\n')
			if err != nil || line == "\r\n" {
				break
			}
		}
		io.WriteString(c, prefix)
		c.(*net.TCPConn).SetLinger(0)
	}
}

func TestHTTPConnectionReset(t *testing.T) {
	addr := rawServer(t, reset(""))
	requireFail(t, checks.HTTP("http://"+addr+"/").Check(testCtx(t)), "HTTP")
}

func TestHTTPResetMidBody(t *testing.T) {
	addr := rawServer(t, reset("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nabc"))
	err := checks.HTTP("http://" + addr + "/").Check(testCtx(t))
	requireFail(t, err, "HTTP")
	if !strings.Contains(err.Error(), "reading the response body") {
		t.Fatalf("got %v, want a body read error", err)
	}
}

func TestHTTPNothingListening(t *testing.T) {
	requireFail(t, checks.HTTP("http://"+closedAddr(t)+"/").Check(testCtx(t)), "HTTP")
}
