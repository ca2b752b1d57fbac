package probe_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/probekit/probekit/probe"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The Kubernetes sources cited below are those of v1.37.2 (module
// k8s.io/kubernetes), paths relative to its root:
//
//	http.go    = pkg/probe/http/http.go
//	request.go = pkg/probe/http/request.go
//	prober.go  = pkg/kubelet/prober/prober.go
//	worker.go  = pkg/kubelet/prober/worker.go

const secret = "password=hunter2"

// TestHTTPGetFidelity runs, against real loopback servers, the exchanges on
// which naive HTTP clients and the kubelet disagree, and expects the
// kubelet's verdict for each.
func TestHTTPGetFidelity(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	srv := newServer(t, mux)
	other := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "other port")
	}))
	stallReq := stall(t)

	status := func(code int) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(code)
			fmt.Fprint(w, secret) // must reach Outcome.Body, never Message
		}
	}
	mux.HandleFunc("/200", status(200))
	mux.HandleFunc("/204", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
	mux.HandleFunc("/304", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(304) })
	mux.HandleFunc("/399", status(399))
	mux.HandleFunc("/400", status(400))
	mux.HandleFunc("/404", status(404))
	mux.HandleFunc("/500", status(500))
	mux.HandleFunc("/503", status(503))
	mux.HandleFunc("/301-same-host", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/200", http.StatusMovedPermanently)
	})
	mux.HandleFunc("/302-same-host", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/200", http.StatusFound)
	})
	mux.HandleFunc("/302-same-host-to-503", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/503", http.StatusFound)
	})
	mux.HandleFunc("/302-other-port", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/", http.StatusFound)
	})
	mux.HandleFunc("/302-other-host", func(w http.ResponseWriter, r *http.Request) {
		// Same server, other name: still another host for the kubelet.
		_, port, _ := net.SplitHostPort(r.Host)
		w.Header().Set("Location", "http://localhost:"+port+"/500")
		w.WriteHeader(http.StatusFound)
		fmt.Fprint(w, secret)
	})
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/loop", http.StatusFound)
	})
	// /chain/n redirects n more times before answering 200.
	mux.HandleFunc("/chain/{n}", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.PathValue("n"))
		if n == 0 {
			return
		}
		http.Redirect(w, r, "/chain/"+strconv.Itoa(n-1), http.StatusFound)
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		stallReq(r)
	})
	mux.HandleFunc("/slow-body", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(200)
		fmt.Fprint(w, "partial")
		w.(http.Flusher).Flush()
		stallReq(r)
	})
	mux.HandleFunc("/huge", func(w http.ResponseWriter, r *http.Request) {
		chunk := []byte(strings.Repeat("x", 64<<10))
		for range 16 { // 1 MiB; writes fail once the prober hangs up
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	mux.HandleFunc("/huge-500", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(500)
		_, _ = w.Write([]byte(strings.Repeat("y", 1<<20)))
	})

	// A response whose body stops at 1000 of 100000 promised bytes with a
	// normal close (FIN), and one that stops with a reset (RST).
	truncated := rawServer(t, func(c net.Conn) {
		defer c.Close()
		fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n%s", strings.Repeat("z", 1000))
	})
	reset := rawServer(t, func(c net.Conn) {
		fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n%s", strings.Repeat("z", 1000))
		_ = c.(*net.TCPConn).SetLinger(0) // close with RST
		c.Close()
	})
	garbage := rawServer(t, func(c net.Conn) {
		defer c.Close()
		fmt.Fprint(c, "SSH-2.0-OpenSSH_9.6\r\n\x00\x01\x02 not http at all\r\n\r\n")
	})
	hangUp := rawServer(t, func(c net.Conn) { c.Close() })
	down := closedAddr(t)

	tests := []struct {
		name string
		url  string
		want probe.Result
		code int  // expected Outcome.StatusCode
		err  bool // whether Probe returns an error, as the kubelet's prober does
		msg  string
		slow bool // the case is about the timeout, so keep it short
	}{
		// http.go:137-144: [200,300) is Success.
		{name: "200", url: srv.URL + "/200", want: probe.Success, code: 200},
		{name: "204 no body", url: srv.URL + "/204", want: probe.Success, code: 204},
		// http.go:137-141: [300,400) is Warning, which prober.go:117-120
		// turns into results.Success. Naive clients call 304/399 failures.
		{name: "304 not followed", url: srv.URL + "/304", want: probe.Warning, code: 304},
		{name: "399", url: srv.URL + "/399", want: probe.Warning, code: 399},
		// http.go:145-148: everything else fails, with only the status in
		// the message.
		{name: "400", url: srv.URL + "/400", want: probe.Failure, code: 400, msg: "HTTP probe failed with statuscode: 400"},
		{name: "404", url: srv.URL + "/404", want: probe.Failure, code: 404, msg: "HTTP probe failed with statuscode: 404"},
		{name: "500", url: srv.URL + "/500", want: probe.Failure, code: 500, msg: "HTTP probe failed with statuscode: 500"},
		{name: "503", url: srv.URL + "/503", want: probe.Failure, code: 503, msg: "HTTP probe failed with statuscode: 503"},
		// http.go:151-167 with prober.go:61 (followNonLocalRedirects =
		// false): same host name is followed and judged by the target.
		{name: "301 same host", url: srv.URL + "/301-same-host", want: probe.Success, code: 200},
		{name: "302 same host", url: srv.URL + "/302-same-host", want: probe.Success, code: 200},
		{name: "302 same host to 503", url: srv.URL + "/302-same-host-to-503", want: probe.Failure, code: 503},
		// http.go:158 compares Hostname(), so another port is the same host.
		{name: "302 same host other port", url: srv.URL + "/302-other-port", want: probe.Success, code: 200},
		// http.go:158-160: 127.0.0.1 -> localhost is another host; the 302
		// is returned (ErrUseLastResponse) and is a Warning (http.go:138-141)
		// although the target would have answered 500.
		{name: "302 other host", url: srv.URL + "/302-other-host", want: probe.Warning, code: 302, msg: "location: http://localhost:"},
		// http.go:161-164: the tenth redirect is an error, which
		// http.go:123-126 turns into a Failure.
		{name: "redirect loop", url: srv.URL + "/loop", want: probe.Failure, msg: "stopped after 10 redirects"},
		{name: "9 redirects", url: srv.URL + "/chain/9", want: probe.Success, code: 200},
		{name: "10 redirects", url: srv.URL + "/chain/10", want: probe.Failure, msg: "stopped after 10 redirects"},
		// prober.go:154 and http.go:92-93: one client timeout covers the
		// exchange; no response in time is a Failure (http.go:123-126).
		{name: "slower than timeout", url: srv.URL + "/slow", want: probe.Failure, msg: "timed out after 1s", slow: true},
		// http.go:34 and 128-131: at most 10 KiB is read; more is
		// "non fatal body truncation".
		{name: "1 MiB body", url: srv.URL + "/huge", want: probe.Success, code: 200},
		{name: "1 MiB body on 500", url: srv.URL + "/huge-500", want: probe.Failure, code: 500},
		// http.go:128-134: any other ReadAtMost error, including the client
		// timeout firing while the body is read, returns
		// (probe.Failure, "", err): a Failure *with an error*, which
		// prober.go:143-149 retries and worker.go:349-353 then discards.
		{name: "body slower than timeout", url: srv.URL + "/slow-body", want: probe.Failure, code: 200, err: true, slow: true},
		{name: "closed mid-body", url: "http://" + truncated + "/", want: probe.Failure, code: 200, err: true, msg: "unexpected EOF"},
		{name: "reset mid-body", url: "http://" + reset + "/", want: probe.Failure, code: 200, err: true},
		// http.go:122-126: no response at all is a Failure, not an error.
		{name: "server down", url: "http://" + down + "/", want: probe.Failure, msg: "connection refused"},
		{name: "not HTTP", url: "http://" + garbage + "/", want: probe.Failure, msg: "malformed HTTP"},
		{name: "accepts and hangs up", url: "http://" + hangUp + "/", want: probe.Failure},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			timeout := generous // speed is not what is tested...
			if tc.slow {
				timeout = time.Second // ...except here, where it is exceeded on purpose
			}
			out, err := probe.HTTPGet{URL: tc.url}.Probe(testCtx(t), timeout)
			if tc.err {
				require.Error(t, err)
				assert.NotErrorIs(t, err, probe.ErrInvalid)
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, tc.want, out.Result, "outcome: %v", out)
			assert.Equal(t, tc.code, out.StatusCode)
			assert.Contains(t, out.Message, tc.msg)
			// kubernetes#99425, http.go:146: no body in the message.
			assert.NotContains(t, out.Message, secret)
			assert.NotContains(t, out.Message, "zzz")
			assert.LessOrEqual(t, len(out.Body), probe.MaxBody)
		})
	}
}

func TestHTTPGetBody(t *testing.T) {
	t.Parallel()
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/huge" {
			_, _ = w.Write([]byte(strings.Repeat("x", 3*probe.MaxBody)))
			return
		}
		w.WriteHeader(503)
		fmt.Fprint(w, secret)
	}))
	ctx := testCtx(t)

	out, err := probe.HTTPGet{URL: srv.URL + "/fail"}.Probe(ctx, generous)
	require.NoError(t, err)
	assert.Equal(t, probe.Failure, out.Result)
	assert.Equal(t, "HTTP probe failed with statuscode: 503", out.Message)
	assert.Equal(t, secret, string(out.Body), "the body stays available to callers")
	assert.False(t, out.Truncated)

	out, err = probe.HTTPGet{URL: srv.URL + "/huge"}.Probe(ctx, generous)
	require.NoError(t, err)
	assert.Equal(t, probe.Success, out.Result)
	assert.Len(t, out.Body, probe.MaxBody)
	assert.True(t, out.Truncated)
}

// TestHTTPGetRequest checks what the server sees (request.go:72-84 and the
// transport of http.go:50-59).
func TestHTTPGetRequest(t *testing.T) {
	t.Parallel()
	var conns atomic.Int32
	got := make(chan *http.Request, 1)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	ctx := testCtx(t)

	_, err := probe.HTTPGet{URL: srv.URL + "/ready?x=1"}.Probe(ctx, 0) // 0: DefaultTimeout
	require.NoError(t, err)
	r := <-got
	assert.Equal(t, http.MethodGet, r.Method)
	assert.Equal(t, "/ready?x=1", r.URL.RequestURI())
	assert.Equal(t, probe.UserAgent, r.UserAgent())
	assert.True(t, strings.HasPrefix(r.UserAgent(), "kube-probe/"))
	assert.Equal(t, "*/*", r.Header.Get("Accept"))
	assert.Empty(t, r.Header.Get("Accept-Encoding"), "compression is disabled")
	assert.True(t, r.Close, "keep-alive is disabled: Connection: close")

	hdr := http.Header{}
	hdr.Set("Host", "api.example.com")
	hdr.Set("Accept", "")
	hdr["user-agent"] = []string{"custom/1"} // non-canonical key on purpose
	hdr.Add("X-Probe", "a")
	hdr.Add("X-Probe", "b")
	before := fmt.Sprint(hdr)
	_, err = probe.HTTPGet{URL: srv.URL + "/", Header: hdr}.Probe(ctx, generous)
	require.NoError(t, err)
	r = <-got
	assert.Equal(t, "api.example.com", r.Host)
	assert.NotContains(t, r.Header, "Accept", "an empty Accept removes it")
	assert.Equal(t, "custom/1", r.UserAgent())
	assert.Equal(t, []string{"a", "b"}, r.Header.Values("X-Probe"))
	assert.Equal(t, before, fmt.Sprint(hdr), "the caller's Header is not modified")

	_, err = probe.HTTPGet{URL: srv.URL + "/", Header: http.Header{"User-Agent": {""}}}.Probe(ctx, generous)
	require.NoError(t, err)
	r = <-got
	assert.NotContains(t, r.Header, "User-Agent", "an empty User-Agent removes it")

	for range 2 {
		_, err = probe.HTTPGet{URL: srv.URL + "/"}.Probe(ctx, generous)
		require.NoError(t, err)
		<-got
	}
	assert.EqualValues(t, 5, conns.Load(), "one new connection per probe")
}

func TestHTTPGetTLS(t *testing.T) {
	t.Parallel()
	srv := httptestTLS(t)
	ctx := testCtx(t)

	// A TLS handshake under -race on a busy machine can be slow.
	const timeout = 10 * time.Second

	// http.go:41: the kubelet never verifies certificates.
	out, err := probe.HTTPGet{URL: srv.URL}.Probe(ctx, timeout)
	require.NoError(t, err)
	assert.Equal(t, probe.Success, out.Result, out.Message)

	out, err = probe.HTTPGet{URL: srv.URL, TLSConfig: &tls.Config{RootCAs: x509.NewCertPool()}}.Probe(ctx, timeout)
	require.NoError(t, err)
	assert.Equal(t, probe.Failure, out.Result)
	assert.Contains(t, out.Message, "certificate")

	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	cfg := &tls.Config{RootCAs: pool}
	out, err = probe.HTTPGet{URL: srv.URL, TLSConfig: cfg}.Probe(ctx, timeout)
	require.NoError(t, err)
	assert.Equal(t, probe.Success, out.Result, out.Message)
	assert.Nil(t, cfg.NextProtos, "the caller's TLS config is not modified")
}

func TestHTTPGetInvalid(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	for _, u := range []string{"", "127.0.0.1:80/ready", "ftp://127.0.0.1/", "http://", "http://[::1", "/ready", "http://a b/"} {
		out, err := probe.HTTPGet{URL: u}.Probe(ctx, 0)
		require.ErrorIs(t, err, probe.ErrInvalid, "URL %q", u)
		assert.Equal(t, probe.Unknown, out.Result)
	}
	_, err := probe.HTTPGet{URL: "http://127.0.0.1/"}.Probe(ctx, -time.Second)
	assert.ErrorIs(t, err, probe.ErrInvalid)
}

// TestHTTPGetCanceled: a caller's cancellation is not a verdict on the
// target.
func TestHTTPGetCanceled(t *testing.T) {
	t.Parallel()
	stallReq := stall(t)
	arrived := make(chan struct{})
	srv := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		stallReq(r)
	}))
	ctx, cancel := context.WithCancel(testCtx(t))
	go func() {
		<-arrived
		cancel()
	}()
	out, err := probe.HTTPGet{URL: srv.URL}.Probe(ctx, 5*time.Second)
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, probe.Unknown, out.Result)
}

func BenchmarkHTTPGet(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "ok")
	}))
	defer srv.Close()
	h := probe.HTTPGet{URL: srv.URL + "/ready"}
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		out, err := h.Probe(ctx, 0)
		if err != nil || out.Result != probe.Success {
			b.Fatal(out, err)
		}
	}
}
